#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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

TemporaryOutput::~TemporaryOutput() {
  if (kept_ || !owner_) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void ensure_parent_dir(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(cat(dir.string(), ": cannot create output directory: ", ec.message()));
}

void write_file(const std::string& path, const void* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw Error(cat(path, ": cannot open for writing: ", std::strerror(errno)));
  const char* p = static_cast<const char*>(data);
  for (size_t left = size; left > 0;) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      throw Error(cat(path, ": writing ", size, " bytes failed: ", std::strerror(err)));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  // Network file systems may report a full disk only here.
  if (::close(fd) != 0) throw Error(cat(path, ": writing ", size, " bytes failed: ", std::strerror(errno)));
}

void write_text_atomic(const std::string& path, const std::string& text) {
  ensure_parent_dir(path);
  TemporaryOutput temp(temp_path(path));
  write_file(temp.path(), text.data(), text.size());
  commit_temp(path);
  temp.keep();
}

}  // namespace tessera::core
