// Atomic output: everything tessera writes goes to a temporary name beside the target and is
// renamed into place once complete, so an interrupted run never leaves a truncated file.
#pragma once
#include <string>

namespace tessera::core {

// The temporary name for `path` (same directory, so rename is atomic): "<path>.tmp".
// Deterministic, so that all MPI ranks writing one file collectively agree on it.
std::string temp_path(const std::string& path);

// Renames temp_path(path) to path (creating nothing else). Throws on failure, having removed
// the temporary.
void commit_temp(const std::string& path);

// Writes text atomically.
void write_text_atomic(const std::string& path, const std::string& text);

// Creates the parent directory of `path` if needed.
void ensure_parent_dir(const std::string& path);

}  // namespace tessera::core
