#include "core/atomic_file.hpp"

#include <filesystem>
#include <fstream>

#include "core/error.hpp"

namespace tessera::core {

std::string temp_path(const std::string& path) { return path + ".tmp"; }

void commit_temp(const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(temp_path(path), path, ec);
  if (!ec) return;
  // The finished file cannot replace the target (e.g. a directory of that name): leave no
  // stray temporary behind either.
  std::error_code ignored;
  std::filesystem::remove(temp_path(path), ignored);
  const bool is_dir = std::filesystem::is_directory(path, ignored);
  throw Error(cat(path, ": cannot move the finished file into place: ",
                  is_dir ? std::string("a directory of that name is in the way") : ec.message()));
}

void ensure_parent_dir(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(cat(dir.string(), ": cannot create output directory: ", ec.message()));
}

void write_text_atomic(const std::string& path, const std::string& text) {
  ensure_parent_dir(path);
  {
    std::ofstream out(temp_path(path), std::ios::binary | std::ios::trunc);
    if (!out) throw Error(cat(path, ": cannot open for writing"));
    out << text;
    out.flush();
    if (!out) throw Error(cat(path, ": write failed"));
  }
  commit_temp(path);
}

}  // namespace tessera::core
