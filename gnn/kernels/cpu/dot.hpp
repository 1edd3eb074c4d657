// The dot product of the CPU row kernels, in a fixed order of additions (deterministic, the same
// at every thread count).
#pragma once
#include <cstdint>

#include "core/lane_sum.hpp"

namespace tessera::gnn::kernels::cpu {

// Σ a[c] b[c] in lane_sum's 8 partial sums (written as an array of 8 scalars, it had compiled to
// scalar FMAs).
template <class T>
inline T dot(const T* __restrict__ a, const T* __restrict__ b, int64_t d) {
  return lane_sum<T>(d, [&](int64_t c, auto x) {
    using X = decltype(x);
    return load_lanes<X>(a + c) * load_lanes<X>(b + c);
  });
}

}  // namespace tessera::gnn::kernels::cpu
