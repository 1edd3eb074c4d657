// Writes a whole buffer to a file descriptor, retrying short and interrupted writes. Only write(2)
// and errno: safe in a signal handler and in a forked child.
#pragma once
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace tessera::core {

// 0 when all `size` bytes were written, else the errno of the failed write (EIO for a write
// that wrote nothing).
inline int write_all(int fd, const void* data, size_t size) noexcept {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace tessera::core
