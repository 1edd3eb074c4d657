// Seeds derived from several integers (train.seed, fold, step, purpose), so that each random draw
// of a run can be recreated from its indices alone — what makes resumed runs bit-identical
// without saving generator states.
#pragma once
#include <cstdint>
#include <initializer_list>

namespace tessera {

// A 64-bit seed from `values` (splitmix64 steps).
inline uint64_t mix_seed(std::initializer_list<uint64_t> values) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint64_t v : values) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    h ^= h >> 31;
  }
  return h;
}

}  // namespace tessera
