// The dot product of the CPU row kernels, in a fixed order of additions (deterministic, the same
// at every thread count).
#pragma once
#include <cstdint>
#include <cstring>

namespace tessera::gnn::kernels::cpu {

// In 8 independent partial sums, as one vector of 8 lanes (GCC vector extension): a single
// running sum is a chain of dependent adds that the compiler may not reorder (no -ffast-math),
// and written as an array of 8 scalars it stayed scalar code. Lane l sums a[c + l] b[c + l] over c.
template <class T>
inline T dot(const T* __restrict__ a, const T* __restrict__ b, int64_t d) {
  typedef T V __attribute__((vector_size(8 * sizeof(T))));
  V acc = {};
  int64_t c = 0;
  for (; c + 8 <= d; c += 8) {
    V x, y;
    std::memcpy(&x, a + c, sizeof(V));
    std::memcpy(&y, b + c, sizeof(V));
    acc += x * y;
  }
  for (; c < d; ++c) acc[0] += a[c] * b[c];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace tessera::gnn::kernels::cpu
