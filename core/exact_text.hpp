// A double as the shortest text that reads back as the same double (std::to_chars), for numbers a
// file must carry exactly: a checkpoint's data_dt. And a time stamp as text (time_text).
#pragma once
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace tessera::core {

inline std::string exact_text(double x) {
  char text[32];
  return {text, std::to_chars(text, text + sizeof text, x).ptr};
}

// The fewest significant digits (1 to 17) whose %g text reads back as `x`: for writers that take a
// precision (yaml-cpp's YAML::DoublePrecision), which printed a dt of 0.05 as 0.050000000000000003.
inline int exact_digits(double x) {
  char text[40];
  for (int p = 1; p < 17; ++p) {
    std::snprintf(text, sizeof text, "%.*g", p, x);
    if (std::strtod(text, nullptr) == x) return p;
  }
  return 17;
}

// A time stamp of an output series (.pvd timestep, XDMF <Time Value>) to 15 significant digits:
// the sum of 95 steps of 0.005 is the double after 0.475, which the shortest exact text shows as
// 0.47500000000000003 (and 17 digits showed a plain sum's 0.05 as 0.049999999999999996); 15
// digits show 0.475 and 0.05, and still tell apart the stamps of any run (VTK's own .pvd writer
// keeps 6 digits, which merged the stamps of long runs).
inline std::string time_text(double t) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", t);
  return text;
}

}  // namespace tessera::core
