#include "core/output_claim.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/atomic_file.hpp"
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

// Whether another process holds `lock` (a claim's lock file) now.
bool held_elsewhere(const fs::path& lock) {
  const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace

ClaimOutcome OutputClaims::claim(const std::string& dir, const std::string& name, const std::string& holder,
                                 const std::vector<std::string>& temp_prefixes) {
  ClaimOutcome out;
  std::error_code ec;
  const fs::path folder = fs::absolute(dir, ec).lexically_normal();
  const std::string path = (folder / ("." + name + ".lock")).string();
  if (std::any_of(held_.begin(), held_.end(), [&](const Held& h) { return h.path == path; })) return out;
  // Another run's lock file may go, and the folder with it when that run made it, between a look
  // and the next step here: made again and retried a few times, then taken as that run's.
  std::vector<fs::path> made;  // folders this claim made, parents first (also in made_)
  for (int attempt = 0;; ++attempt) {
    std::vector<fs::path> missing;  // deepest first
    for (fs::path d = folder; d.has_relative_path() && !fs::exists(d, ec); d = d.parent_path()) missing.push_back(d);
    fs::create_directories(folder, ec);
    if (ec) throw Error(cat("'", dir, "' cannot be made: ", ec.message()));
    for (auto d = missing.rbegin(); d != missing.rend(); ++d)
      if (std::find(made_.begin(), made_.end(), *d) == made_.end()) made_.push_back(*d), made.push_back(*d);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      if (err == ENOENT && attempt < 10) continue;
      throw Error(cat(path, ": the lock file that guards the folder cannot be made (", std::strerror(err), ")"));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string line = holder_line(fd);
      if (err == EWOULDBLOCK) {
        ::close(fd);
        out.refused = cat("is in use by another run (", line.empty() ? "one that has just started" : line, ")");
        return out;
      }
      // No locks here: the file made for one goes again (it would keep the folder from counting
      // as empty, and hold nothing).
      struct stat st {};
      if (::fstat(fd, &st) == 0 && st.st_size == 0) ::unlink(path.c_str());
      ::close(fd);
      out.unsupported = true, out.refused = cat("takes no lock (", path, ": ", std::strerror(err), ")");
      return out;
    }
    if (!still_at(fd, path)) {
      ::close(fd);
      if (attempt < 10) continue;
      out.refused = "is in use by another run (one that has just started)";
      return out;
    }
    const std::string line = cat(holder, ", pid ", ::getpid(), " on host ", host_name(), ", since ", utc_now(), "\n");
    // The line only informs a second run: a full disk that refuses it leaves the lock working.
    [[maybe_unused]] const bool written =
        ::ftruncate(fd, 0) == 0 && ::pwrite(fd, line.data(), line.size(), 0) == static_cast<ssize_t>(line.size());
    held_.push_back({path, fd});
    // Listed lock file first, then its new folders deepest first: an interrupt removes them too.
    on_interrupt_.push_back(remove_quietly_on_interrupt(path));
    for (auto d = made.rbegin(); d != made.rend(); ++d)
      on_interrupt_.push_back(remove_quietly_on_interrupt(d->string()));
    break;
  }
  // The names of runs that hold other claims here now: their unfinished files are not a killed
  // run's, though their names may begin as this run's do (output.name "flow_fine" beside "flow").
  std::vector<std::string> busy;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() > 6 && f.starts_with('.') && f.ends_with(".lock") && e.path().string() != path &&
        held_elsewhere(e.path()))
      busy.push_back(f.substr(1, f.size() - 6));
  }
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string f = e.path().filename().string();
    if (!f.ends_with(".tmp") || !e.is_regular_file(ec)) continue;
    if (std::none_of(temp_prefixes.begin(), temp_prefixes.end(),
                     [&](const std::string& p) { return f.starts_with(p); }))
      continue;
    if (std::any_of(busy.begin(), busy.end(),
                    [&](const std::string& b) { return f.starts_with(b + ".") || f.starts_with(b + "_"); }))
      continue;
    if (fs::remove(e.path(), ec)) out.removed_temporaries.push_back(e.path().string());
  }
  std::sort(out.removed_temporaries.begin(), out.removed_temporaries.end());
  return out;
}

OutputClaims::~OutputClaims() {
  for (int handle : on_interrupt_) unlist_on_interrupt(handle);
  // The lock file goes while it is held (a run waiting to open it then makes a new one), and only
  // while it is the file at its path: after a lost race the path may be another run's.
  for (const Held& h : held_) {
    if (still_at(h.fd, h.path)) ::unlink(h.path.c_str());
    ::close(h.fd);
  }
  std::error_code ec;
  for (auto d = made_.rbegin(); d != made_.rend(); ++d)
    if (fs::is_directory(*d, ec) && fs::is_empty(*d, ec)) fs::remove(*d, ec);
}

}  // namespace tessera::core
