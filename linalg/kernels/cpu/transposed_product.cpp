// a · bᵀ with both operands' long dimension k contiguous (the weight gradient g · hᵀ of a
// feature-major layer: a sum over points). libxsmm 1.17 generates no kernel with a transposed A,
// which this layout needs in its column-major terms, and MKL spends a third of such a product
// packing both operands (57–70 GFLOP/s fp32 on 50 × 50 over 3,200 points); here each output
// element is a dot product along k, held as vector partial sums in a register tile (docs/design.md).
#include "linalg/kernels/transposed_product.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)  // the tiles' builds are chosen by x86 CPU features; elsewhere the caller uses at::mm
namespace tessera::linalg::kernels {
namespace {

// Register tiles: Rows × Cols output elements, each a vector of partial sums over k, plus Rows
// vectors of a and one of b: 25 + 5 + 1 of AVX-512's 32 registers; 10 + 2 + 1 of AVX2's 16. A
// 3 × 4 AVX2 tile (12 + 3 + 1, every register) made GCC keep partial sums on the stack inside the
// loop: the advection PINN step took 177 ms on a Zen-1 EPYC against 125 with 2 × 5 (2 × 4 and 2 × 6
// alike, 3 × 3 184, 4 × 2 199; bench_pinn, one thread). 2 × 5 also cuts the PINN's 50 columns into
// 10 whole tiles, an even split over 2 threads. The shape does not change the result: each element
// is the same sum in the same order whatever tile computes it.
template <int Bytes, int Rows, int Cols>
struct Shape {
  static constexpr int bytes = Bytes, rows = Rows, cols = Cols;
};
using Avx512Shape = Shape<64, 5, 5>;
using Avx2Shape = Shape<32, 2, 5>;

// One tile: c[i][j] = Σ_k a[i][k] b[j][k] for i < R, j < Cc (R ≤ Rows, Cc ≤ Cols: the edges), a and
// b each `ld` apart per row. While it runs, it prefetches [prefetch, prefetch + kv · step), the
// part of the next column tile's b rows assigned to it: b is the operand read from memory (the
// saved activations), and its first pass would otherwise wait on it.
template <class T, int Bytes, int R, int Cc>
inline void tile(const T* a, const T* b, int64_t ld, int64_t k, T* c, int64_t ldc, const T* prefetch, int64_t step) {
  typedef T V __attribute__((vector_size(Bytes)));
  constexpr int64_t lanes = Bytes / sizeof(T);
  const int64_t kv = k / lanes;
  V sum[R][Cc];
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < Cc; ++j) sum[i][j] = V{};
  for (int64_t v = 0; v < kv; ++v) {
    if (prefetch) __builtin_prefetch(prefetch + v * step);
    V av[R];
    for (int i = 0; i < R; ++i) std::memcpy(&av[i], a + i * ld + v * lanes, Bytes);  // unaligned loads
    for (int j = 0; j < Cc; ++j) {
      // One load of the b vector into a register, used by the R rows. A plain load let GCC fold it
      // into each of the R FMAs as a memory operand (R loads of it): on a Zen-1 EPYC (one 256-bit
      // load per cycle) the 2 x 5 AVX2 tile was load-bound; a volatile load cannot be repeated.
      // Advection PINN step 125 -> 115 ms there (bench_pinn, one thread). The same arithmetic.
      typedef T Unaligned __attribute__((vector_size(Bytes), aligned(sizeof(T))));
      const V bv = *reinterpret_cast<const volatile Unaligned*>(b + j * ld + v * lanes);
      for (int i = 0; i < R; ++i) sum[i][j] += av[i] * bv;
    }
  }
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < Cc; ++j) {
      T s = 0;
      for (int l = 0; l < lanes; ++l) s += sum[i][j][l];
      for (int64_t q = kv * lanes; q < k; ++q) s += a[i * ld + q] * b[j * ld + q];  // the remainder of k
      c[i * ldc + j] = s;
    }
}

// Column tiles outer, row tiles inner: a tile's b rows (read from memory) are loaded once and used
// by every row tile from cache, while a (the fresh gradient, in cache) is swept.
template <class T, class S>
void columns(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, int64_t n_begin, int64_t n_end) {
  constexpr int Rows = S::rows, Cols = S::cols;
  const int64_t row_tiles = std::max<int64_t>(1, m / Rows), kv = std::max<int64_t>(1, k / (S::bytes / sizeof(T)));
  // Each full row tile prefetches 1 / row_tiles of the next column tile's b rows (contiguous).
  const int64_t share = Cols * k / row_tiles, step = std::max<int64_t>(1, (share + kv - 1) / kv);
  int64_t j = n_begin;
  for (; j + Cols <= n_end; j += Cols) {
    const T* next = j + 2 * Cols <= n_end ? b + (j + Cols) * k : nullptr;
    int64_t i = 0;
    for (; i + Rows <= m; i += Rows)
      tile<T, S::bytes, Rows, Cols>(a + i * k, b + j * k, k, k, c + i * n + j, n,
                                    next ? next + (i / Rows) * share : nullptr, step);
    for (; i < m; ++i) tile<T, S::bytes, 1, Cols>(a + i * k, b + j * k, k, k, c + i * n + j, n, nullptr, 0);
  }
  for (; j < n_end; ++j) {
    int64_t i = 0;
    for (; i + Rows <= m; i += Rows)
      tile<T, S::bytes, Rows, 1>(a + i * k, b + j * k, k, k, c + i * n + j, n, nullptr, 0);
    for (; i < m; ++i) tile<T, S::bytes, 1, 1>(a + i * k, b + j * k, k, k, c + i * n + j, n, nullptr, 0);
  }
}

// `flatten` inlines the tiles into each build so that their vectors live in registers.
template <class T>
__attribute__((target("arch=x86-64-v4"), flatten)) void columns_avx512(const T* a, const T* b, T* c, int64_t m,
                                                                       int64_t n, int64_t k, int64_t n_begin,
                                                                       int64_t n_end) {
  columns<T, Avx512Shape>(a, b, c, m, n, k, n_begin, n_end);
}
#if defined(__clang__)  // no target_clones on templates or with flatten (core/cpu_clones.hpp)
#define TESSERA_COLUMNS_AVX2_CLONES __attribute__((flatten))
#else
#define TESSERA_COLUMNS_AVX2_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), flatten))
#endif
template <class T>
TESSERA_COLUMNS_AVX2_CLONES void columns_avx2(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k,
                                              int64_t n_begin, int64_t n_end) {
  columns<T, Avx2Shape>(a, b, c, m, n, k, n_begin, n_end);
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  return yes;
}

}  // namespace

int64_t transposed_product_tile_columns() { return has_avx512() ? Avx512Shape::cols : Avx2Shape::cols; }

template <class T>
void transposed_product_cpu(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k, int64_t n_begin,
                            int64_t n_end) {
  if (has_avx512())
    columns_avx512<T>(a, b, c, m, n, k, n_begin, n_end);
  else
    columns_avx2<T>(a, b, c, m, n, k, n_begin, n_end);
}

template <class T>
void transposed_product_cpu_256(const T* a, const T* b, T* c, int64_t m, int64_t n, int64_t k) {
  columns_avx2<T>(a, b, c, m, n, k, 0, n);
}

template void transposed_product_cpu_256<float>(const float*, const float*, float*, int64_t, int64_t, int64_t);
template void transposed_product_cpu_256<double>(const double*, const double*, double*, int64_t, int64_t, int64_t);
template void transposed_product_cpu<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, int64_t,
                                            int64_t);
template void transposed_product_cpu<double>(const double*, const double*, double*, int64_t, int64_t, int64_t, int64_t,
                                             int64_t);

}  // namespace tessera::linalg::kernels
#endif
