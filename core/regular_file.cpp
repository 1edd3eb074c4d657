#include "core/regular_file.hpp"

#include <filesystem>

#include "core/error.hpp"

namespace tessera::core {

void require_regular_file(const std::string& path, const std::string& expected) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_regular_file(status)) return;
  if (!std::filesystem::exists(status)) throw Error(cat(path, ": file not found"));
  if (std::filesystem::is_directory(status)) throw Error(cat(path, ": is a directory; expected ", expected));
  throw Error(cat(path, ": not a regular file; expected ", expected));
}

}  // namespace tessera::core
