// The deck's keys that name files and folders (io/deck.hpp): plain file names, output folders
// checked before any work, and input paths resolved against the deck's folder.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.hpp"
#include "io/deck.hpp"

namespace tessera::io {

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
             std::string::npos;
}

std::string Deck::get_file_name(const std::string& p) const {
  const std::string name = get_string(p);
  if (!is_plain_file_name(name))
    fail(p, cat("'", name, "' is not a plain file name (letters, digits, _ - . only; directories go in the dir key)"));
  // The outputs add to the name (`_wake_probe_series.csv.tmp`, a lock file's `.` and `.lock`), and
  // a file name ends at 255 bytes: a longer one failed at its first or a later output, unnamed.
  if (constexpr size_t most = 200; name.size() > most)
    fail(p, cat("'", name.substr(0, 20), "...' is ", name.size(), " characters long; at most ", most,
                " (the outputs add suffixes such as _wake_probe_series.csv.tmp, and file names end at 255 bytes)"));
  return name;
}

void check_output_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  const auto fail = [](const std::string& message) { throw Error(message); };
  std::error_code ec;
  fs::path wanted = fs::absolute(dir, ec).lexically_normal();
  if (!wanted.has_filename() && wanted.has_relative_path()) wanted = wanted.parent_path();  // "out/" is "out"
  // The folder itself or, when it does not exist yet, the nearest parent that does: the folder
  // is made below it. A path that cannot be looked at, or a link to nothing, is refused here
  // too: it would fail at the first write just the same.
  fs::path existing = wanted;
  for (;;) {
    const fs::file_status st = fs::status(existing, ec);
    if (fs::exists(st)) break;
    if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
      fail(cat("'", dir, "' cannot be checked: ", existing.string(), ": ", ec.message()));
    if (fs::is_symlink(fs::symlink_status(existing, ec)))
      fail(cat("'", dir, "' cannot be made: ", existing.string(), " is a symbolic link to nothing"));
    if (!existing.has_relative_path()) break;
    existing = existing.parent_path();
  }
  const bool is_self = existing == wanted;
  if (!fs::is_directory(existing, ec))
    fail(is_self ? cat("'", dir, "' is a file, not a folder")
                 : cat("'", dir, "' cannot be made: ", existing.string(), " is a file, not a folder"));
  // What is refused below: the folder itself, or the parent it would be made in.
  const std::string refused = cat("'", dir, "' ", is_self ? "" : cat("cannot be made: ", existing.string(), " "));
  if (::access(existing.c_str(), W_OK | X_OK) != 0) {
    const int err = errno;
    fail(cat(refused, "is not writable (", std::strerror(err), ")"));
  }
  // access() answers yes for root, and for folders where nothing can be made all the same (/proc):
  // a run found out only when it wrote its results, after the work. A folder made (by mkdtemp, under
  // a name no other process or rank holds) and removed at once says it before any work.
  std::string probe = (existing / ".tessera-probe-XXXXXX").string();
  if (::mkdtemp(probe.data()) == nullptr) {
    const int err = errno;
    fail(cat(refused, "does not take new files or folders (", std::strerror(err), ")"));
  }
  if (::rmdir(probe.c_str()) != 0) {
    const int err = errno;
    fail(cat("'", dir, "': the folder ", probe, " made to check it cannot be removed (", std::strerror(err), ")"));
  }
}

std::string Deck::get_output_dir(const std::string& p) const {
  const std::string dir = get_string(p);
  try {
    check_output_folder(dir);
  } catch (const Error& e) {
    fail(p, e.what());
  }
  return dir;
}

std::string Deck::resolve_path(const std::string& value) const {
  std::filesystem::path p(value);
  if (p.is_absolute()) return value;
  if (!base_dir_.empty()) return (std::filesystem::path(base_dir_) / p).lexically_normal().string();
  if (source_.empty()) return value;
  return (std::filesystem::path(source_).parent_path() / p).lexically_normal().string();
}

std::string Deck::base_dir() const {
  if (!base_dir_.empty()) return base_dir_;
  if (source_.empty()) return "";
  const std::filesystem::path parent = std::filesystem::path(source_).parent_path();
  return std::filesystem::absolute(parent.empty() ? std::filesystem::path(".") : parent).lexically_normal().string();
}

}  // namespace tessera::io
