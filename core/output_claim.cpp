#include "core/output_claim.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/build_info.hpp"
#include "core/error.hpp"

namespace tessera::core {
namespace fs = std::filesystem;
namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// The holder's line, as it wrote it (empty while it has not yet).
std::string holder_line(int fd) {
  char buf[512];
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

// Whether `fd` is still the file at `path`: a run that ended removed its lock file, and a run that
// opened that file just before took a lock on a file no one else will find.
bool still_at(int fd, const std::string& path) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

ClaimOutcome OutputClaims::claim(const std::string& dir, const std::string& name, const std::string& holder,
                                 const std::vector<std::string>& temp_prefixes) {
  ClaimOutcome out;
  std::error_code ec;
  const fs::path folder = fs::absolute(dir, ec).lexically_normal();
  const std::string path = (folder / ("." + name + ".lock")).string();
  if (std::any_of(held_.begin(), held_.end(), [&](const Held& h) { return h.path == path; })) return out;
  std::vector<fs::path> missing;
  for (fs::path d = folder; d.has_relative_path() && !fs::exists(d, ec); d = d.parent_path()) missing.push_back(d);
  fs::create_directories(folder, ec);
  if (ec) throw Error(cat("'", dir, "' cannot be made: ", ec.message()));
  made_.insert(made_.end(), missing.rbegin(), missing.rend());
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      throw Error(cat(path, ": the lock file that guards the folder cannot be made (", std::strerror(err), ")"));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string line = holder_line(fd);
      ::close(fd);
      if (err == EWOULDBLOCK)
        out.refused = cat("is in use by another run (", line.empty() ? "one that has just started" : line, ")");
      else
        out.unsupported = true, out.refused = cat("takes no lock (", path, ": ", std::strerror(err), ")");
      return out;
    }
    if (!still_at(fd, path) && attempt < 10) {
      ::close(fd);
      continue;
    }
    const std::string line = cat(holder, ", pid ", ::getpid(), " on host ", host_name(), ", since ", utc_now(), "\n");
    // The line only informs a second run: a full disk that refuses it leaves the lock working.
    [[maybe_unused]] const bool written =
        ::ftruncate(fd, 0) == 0 && ::pwrite(fd, line.data(), line.size(), 0) == static_cast<ssize_t>(line.size());
    held_.push_back({path, fd});
    break;
  }
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() <= 4 || f.compare(f.size() - 4, 4, ".tmp") != 0 || !e.is_regular_file(ec)) continue;
    if (std::any_of(temp_prefixes.begin(), temp_prefixes.end(),
                    [&](const std::string& p) { return f.rfind(p, 0) == 0; }) &&
        fs::remove(e.path(), ec))
      out.removed_temporaries.push_back(e.path().string());
  }
  std::sort(out.removed_temporaries.begin(), out.removed_temporaries.end());
  return out;
}

OutputClaims::~OutputClaims() {
  // The lock file goes while it is held: a run waiting to open it then makes a new one.
  for (const Held& h : held_) {
    ::unlink(h.path.c_str());
    ::close(h.fd);
  }
  std::error_code ec;
  for (auto d = made_.rbegin(); d != made_.rend(); ++d)
    if (fs::is_directory(*d, ec) && fs::is_empty(*d, ec)) fs::remove(*d, ec);
}

}  // namespace tessera::core
