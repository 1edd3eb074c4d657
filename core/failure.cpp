#include "core/failure.hpp"

#include <filesystem>
#include <new>
#include <system_error>

#include "core/error.hpp"
#include "core/stop_request.hpp"

namespace tessera::core {

Failure describe_failure(const std::exception_ptr& thrown) {
  Failure f{"error", "", "", 1};
  try {
    std::rethrow_exception(thrown);
  } catch (const StoppedBySignal& e) {
    // Not a failure: a requested stop, done (its checkpoint written); the status says by what.
    f.kind = cat("stopped by ", signal_name(e.signal()));
    f.message = e.what();
    f.exit_code = 128 + e.signal();
  } catch (const Error& e) {
    f.message = e.what();
    f.key = e.key();
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the user chose that cannot be made or written (a directory under a regular file, a
    // full disk): the user's to fix, and the message names the path first, as tessera's own do.
    std::string what = e.what();  // "filesystem error: cannot remove: Not a directory [path]"
    if (what.rfind("filesystem error: ", 0) == 0) what = what.substr(18);
    if (!e.path1().empty()) what = cat(e.path1().string(), ": ", what.substr(0, what.find(" [")));
    if (e.code() == std::errc::not_a_directory) what += " (a folder on this path is a file)";
    f.message = what;
  } catch (const std::bad_alloc&) {
    f.message = "out of memory (is a size in the deck too large for this machine?)";
  } catch (const std::exception& e) {
    // libtorch's failed allocation ("... can't allocate memory: you tried to allocate N bytes ...",
    // followed by a C++ stack) comes from a problem size too large, not from a bug: one line.
    const std::string what = e.what();
    if (const auto at = what.find("can't allocate memory"); at != std::string::npos) {
      f.message = cat("out of memory: ", what.substr(at, what.find('\n', at) - at),
                      " (is a size in the deck too large for this machine?)");
    } else {
      f.kind = "internal error";
      f.message = what;
      f.exit_code = 3;
    }
  } catch (...) {
    f.kind = "internal error";
    f.message = "an exception that is not a std::exception";
    f.exit_code = 3;
  }
  if (f.message.empty()) f.message = "failed, with no message";
  return f;
}

}  // namespace tessera::core
