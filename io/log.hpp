// Logging: rank 0 writes to the console, every rank optionally to its own file; other ranks are
// silent on the console so `mpirun -np N` output reads like a serial run.
#pragma once
#include <memory>
#include <string>

#include "mesh/comm.hpp"

namespace spdlog {
class logger;
}

namespace tessera::io {

struct LogOptions {
  std::string level = "info";   // trace, debug, info, warn, error, off
  std::string rank_dir;         // if set: <rank_dir>/rank<r>.log for every rank
};

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const Comm& comm,
                                            const LogOptions& options = {});

}  // namespace tessera::io
