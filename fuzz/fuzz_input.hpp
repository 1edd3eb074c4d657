// Shared pieces of the fuzz targets (docs/reliability.md, "Fuzzing"). Every target hands the
// fuzzer's bytes to a real tessera reader; tessera::Error is the expected answer to bad input and
// is swallowed, so anything else that escapes (another exception, a crash, a sanitizer report) is
// a finding.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace tessera::fuzz {

// A scratch directory of this process (libFuzzer's -fork/-jobs workers have their own pid), made
// once and removed at a normal exit (after a crash it stays, holding the input); readers that
// only take paths get the bytes through a file in it.
inline const std::filesystem::path& scratch_dir() {
  struct Scratch {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("tessera-fuzz-" + std::to_string(::getpid()));
    Scratch() { std::filesystem::create_directories(dir); }
    ~Scratch() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  };
  static const Scratch scratch;
  return scratch.dir;
}

// <scratch>/<name>, emptied (made if absent): the previous input's files must not leak into this
// one's folder.
inline std::filesystem::path fresh_scratch_dir(const std::string& name) {
  const std::filesystem::path dir = scratch_dir() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Writes `bytes` to <scratch>/<name> (replacing it) and returns the path.
inline std::string write_scratch(const std::string& name, std::string_view bytes) {
  const std::filesystem::path path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

// Splits `bytes` at every form feed ('\f'): one input carries several files (the TU format's
// parts), and the fuzzer can add, drop or mutate any of them.
inline std::vector<std::string_view> split_parts(std::string_view bytes) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= bytes.size(); ++i)
    if (i == bytes.size() || bytes[i] == '\f') {
      parts.push_back(bytes.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

// Runs `read` on the input; a tessera::Error is the reader rejecting bad input as designed.
// TESSERA_FUZZ_VERBOSE=1 prints each verdict, to check that seeds reach the reader's end (a seed
// rejected on its first line exercises little).
template <class F>
int run_reader(F&& read) {
  static const bool verbose = std::getenv("TESSERA_FUZZ_VERBOSE") != nullptr;
  try {
    read();
    if (verbose) std::fprintf(stderr, "  accepted\n");
  } catch (const tessera::Error& e) {
    if (verbose) std::fprintf(stderr, "  rejected: %s\n", e.what());
  }
  return 0;
}

}  // namespace tessera::fuzz
