// The deck key of the tessera::Error a call throws, for tests of where an error is located.
#pragma once
#include <string>

#include "core/error.hpp"

namespace tessera::test {

// The key the Error carries ("" if none), or "no error" if f does not throw.
template <class F>
std::string error_key(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.key();
  }
  return "no error";
}

}  // namespace tessera::test
