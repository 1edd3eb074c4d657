// Logging: rank 0 writes to the console, every rank optionally to its own file; other ranks are
// silent on the console so `mpirun -np N` output reads like a serial run.
#pragma once
#include <memory>
#include <string>

#include "core/comm.hpp"

namespace spdlog {
class logger;
}

namespace tessera::core {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, off
  std::string rank_dir;        // if set: <rank_dir>/<logger name>.rank<r>.log for every rank
};

// Plain-string logging for translation units that include torch: torch ships its own fmt
// headers, which clash with the fmt spdlog needs, so such files must not include spdlog.
// A null logger is allowed (nothing is logged).
void log_info(spdlog::logger* log, const std::string& message);
void log_warn(spdlog::logger* log, const std::string& message);
// "%.4e"-style text of a double, for such messages.
std::string sci(double x);
// sci(error / baseline), or "undefined" where the baseline is 0 (persistence of a flow that does
// not change: 0/0 printed "-nan").
std::string sci_ratio(double error, double baseline);
// "%.3g"-style text: a figure read by people (a speed-up, an accuracy), not a value to copy.
std::string sig3(double x);

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const Comm& comm, const LogOptions& options = {});

}  // namespace tessera::core
