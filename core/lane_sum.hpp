// Sums over a row in a fixed order of additions (deterministic, the same at every thread count)
// that the compiler can keep in vector registers.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

// lane_sum's terms pass 8-lane vectors by value, which GCC notes (-Wpsabi) for code built without
// AVX: the note concerns calls between separately compiled objects, and these calls are all
// inlined. Off from here on in every file that includes this one.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tessera {

// 8 lanes of T as one GCC vector.
template <class T>
struct Lanes8 {
  typedef T type __attribute__((vector_size(8 * sizeof(T))));
};

// X = T: *p; X = Lanes8<T>::type: p[0..8) (unaligned).
template <class X, class T>
inline X load_lanes(const T* p) {
  if constexpr (std::is_same_v<X, T>) {
    return *p;
  } else {
    X x;
    std::memcpy(&x, p, sizeof(X));
    return x;
  }
}

template <class T, class X>
inline void store_lanes(T* p, const X& x) {
  if constexpr (std::is_same_v<X, T>)
    *p = x;
  else
    std::memcpy(p, &x, sizeof(X));
}

// f(0) + ... + f(n - 1) in 8 independent partial sums: lane l sums f(j + l) over the blocks of 8,
// the tail goes to lane 0, and the lanes are added pairwise. f(j, X{}) returns the terms j..j+8
// as a vector (X = Lanes8<T>::type) or term j alone (X = T); write it with load_lanes<X>/store so one
// body serves both. Why a vector type: a single running sum is a chain of dependent adds the
// compiler may not reorder (no -ffast-math), and the same 8 sums written as an array of scalars
// compiled to scalar code.
template <class T, class F>
inline T lane_sum(int64_t n, const F& f) {
  using V = typename Lanes8<T>::type;
  V acc = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) acc += f(j, V{});
  for (; j < n; ++j) acc[0] += f(j, T{});
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace tessera
