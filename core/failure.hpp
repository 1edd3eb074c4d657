// What an exception says to the user, as run_app prints it: its kind ("error" for bad input and
// failed runs, "internal error" for a defect), its one-line message, the deck key of an Error that
// names one, and the exit code. One description for run_app and for the copies that other ranks
// make of one rank's error (core/on_root.hpp), so that every rank prints the same line and rank 0
// prints it once.
#pragma once
#include <exception>
#include <string>

namespace tessera::core {

struct Failure {
  std::string kind;     // "error", "internal error", or "stopped by SIGUSR1" (core/stop_request.hpp)
  std::string message;  // never empty
  std::string key;      // an Error's deck key, or empty
  int exit_code = 1;    // 1 for an error, 3 for an internal error, 128 + signal for a stop
};

// `thrown`: a caught exception (std::current_exception()).
Failure describe_failure(const std::exception_ptr& thrown);

}  // namespace tessera::core
