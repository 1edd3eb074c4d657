#include "io/field.hpp"

#include <algorithm>
#include <cstdint>

namespace tessera::io {

std::pair<int64_t, int64_t> block_range(int64_t n, int parts, int part) {
  const int64_t base = n / parts, extra = n % parts;
  const int64_t begin = part * base + std::min<int64_t>(part, extra);
  return {begin, begin + base + (part < extra ? 1 : 0)};
}

}  // namespace tessera::io
