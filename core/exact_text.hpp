// A double as the shortest text that reads back as the same double (std::to_chars), for numbers a
// file must carry exactly: a checkpoint's data_dt, a .pvd's time stamps (VTK's own writer keeps 6
// digits).
#pragma once
#include <charconv>
#include <string>

namespace tessera::core {

inline std::string exact_text(double x) {
  char text[32];
  return {text, std::to_chars(text, text + sizeof text, x).ptr};
}

}  // namespace tessera::core
