// tessera::Error: the one exception type for bad input and failed runs. Apps catch it at
// the top, print its message on one line and exit non-zero.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tessera {

class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Concatenates anything streamable: throw Error(cat("cell ", i, " is inverted")).
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  os.precision(10);
  (os << ... << args);
  return os.str();
}

}  // namespace tessera
