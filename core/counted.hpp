// A count and its noun in the right number for log lines and errors: counted(1, "rank", "ranks")
// is "1 rank", counted(3, "rank", "ranks") "3 ranks" (messages wrote "rank(s)", or spelled the
// choice out at each use).
#pragma once
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace tessera::core {

template <class Count>
std::string counted(Count n, std::string_view one, std::string_view many) {
  return cat(n, " ", n == 1 ? one : many);
}

}  // namespace tessera::core
