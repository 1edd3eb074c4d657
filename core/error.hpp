// tessera::Error: the one exception type for bad input and failed runs. Apps catch it at
// the top, print its message on one line and exit non-zero.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tessera {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // An error about one input setting carries its key (e.g. "forces.group"), so the layer that
  // knows where the setting came from (a deck file and line) can say so without parsing text.
  Error(const std::string& message, std::string key) : std::runtime_error(message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// Runs `work`; an Error it throws that names no deck key gets `key`. A file or folder that a
// setting names and that cannot be read ("/x/checkpoint.h5: file not found") is that setting's
// error, which run_app then locates at the setting's deck line or --set. Errors that name their
// own key keep it.
//
//   Checkpoint c = with_key("train.resume", [&] { return load_checkpoint(path); });
template <class Work>
decltype(auto) with_key(const std::string& key, Work&& work) {
  try {
    return std::forward<Work>(work)();
  } catch (const Error& e) {
    if (!e.key().empty()) throw;
    throw Error(e.what(), key);
  }
}

// Concatenates anything streamable: throw Error(cat("cell ", i, " is inverted")).
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  os.precision(10);
  (os << ... << args);
  return os.str();
}

// A name or value shortened for an error message: very long ones (a mistaken paste, a generated
// path) are cut in the middle, keeping both ends, and say how long they were.
inline std::string shown(const std::string& text, size_t max_chars = 160) {
  if (text.size() <= max_chars) return text;
  const size_t keep = max_chars / 2;
  return cat(text.substr(0, keep), "...", text.substr(text.size() - keep), " (", text.size(), " characters)");
}

}  // namespace tessera
