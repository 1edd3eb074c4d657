// The CPU kernel behind linalg::product_with_transpose (small_products.hpp): c = a · bᵀ for
// row-major a [m, k] and b [n, k], both with the long dimension k contiguous; c [m, n] row-major.
#pragma once
#include <cstdint>

namespace tessera::linalg::kernels {

// Whether this build has the kernel (x86-64 only).
constexpr bool have_transposed_product_cpu =
#if defined(__x86_64__)
    true;
#else
    false;
#endif

// c [m, n] = a [m, k] · b [n, k]ᵀ, columns [n_begin, n_end) of c only, so that callers may split n
// over threads (at multiples of transposed_product_tile_columns(): each c element is then one
// tile's sums, whatever the split). AVX-512 tiles where the CPU has AVX-512, else 256-bit ones.
template <class T>
void transposed_product_cpu(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, int64_t n_begin,
                            int64_t n_end);

// All of c through the 256-bit tiles whatever the CPU: the path of CPUs without AVX-512, for the
// tests on machines that have it.
template <class T>
void transposed_product_cpu_256(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k);

// Columns of c per tile: a split of n over threads in multiples of it keeps every tile whole.
int64_t transposed_product_tile_columns();

}  // namespace tessera::linalg::kernels
