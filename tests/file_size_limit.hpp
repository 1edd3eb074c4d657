// A full disk, for this process alone: while a FileSizeLimit lives, writing past `bytes` into any
// file fails with EFBIG (RLIMIT_FSIZE, with SIGXFSZ ignored so that the write returns an error
// instead of killing the process). Writers must then fail with an error and leave nothing behind.
#pragma once
#include <sys/resource.h>

#include <csignal>

namespace tessera::test {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit r = old_;
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int) = SIG_DFL;
};

}  // namespace tessera::test
