#include "core/progress.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"

namespace tessera::core {
namespace {

std::string clock_text(double s) {
  if (!(s >= 0) || s > 360000) return "--:--";
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", t / 60, t % 60);
  return buf;
}

}  // namespace

bool Progress::is_terminal() {
  // Under an MPI launcher a rank's stdout can be a pseudo-terminal even when the launcher writes
  // to a pipe or file, so redraws and colour codes would end up in logs: only a terminal that
  // this process owns counts. NO_COLOR (no-color.org) also turns terminal output off.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "NO_COLOR"})
    if (std::getenv(var)) return false;
  return isatty(STDOUT_FILENO) == 1;
}

Progress::Progress(std::shared_ptr<spdlog::logger> log, std::string label, int64_t total, double interval_s,
                   bool terminal)
    : log_(std::move(log)),
      label_(std::move(label)),
      total_(total),
      interval_s_(interval_s),
      terminal_(terminal),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::start_at(int64_t done_before) {
  done_before_ = done_before;
  done_ = done_before;
}

Progress::~Progress() {
  if (!finished_ && done_ > done_before_) finish();
}

std::string Progress::line(const std::string& extra) const {
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = recent_.per_second(el, done_ - done_before_);
  double eta = rate > 0 ? (total_ - done_) / rate : -1;
  if (time_limit_s_ > 0)
    eta = eta < 0 ? std::max(time_limit_s_ - el, 0.0) : std::min(eta, std::max(time_limit_s_ - el, 0.0));
  char pct[16];
  std::snprintf(pct, sizeof pct, "%5.1f%%", total_ > 0 ? 100.0 * done_ / total_ : 100.0);
  char r[32];
  std::snprintf(r, sizeof r, "%.3g/s", rate);
  // Work finished before its total (early stopping, a time limit) has no time left to estimate:
  // its last line said "ETA 00:34" for work that had ended.
  const std::string left =
      finished_ && done_ < total_ ? "stopped" : "ETA " + (done_ >= total_ ? clock_text(0) : clock_text(eta));
  return cat(label_, " ", done_, "/", total_, " ", pct, " ", r, " elapsed ", clock_text(el), " ", left,
             extra.empty() ? "" : "  " + extra);
}

void Progress::advance(int64_t n, const std::string& extra) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  recent_.add(std::chrono::duration<double>(now - start_).count(), done_ - done_before_);
  double since = std::chrono::duration<double>(now - last_).count();
  if (terminal_) {
    if (since >= 0.1 || done_ >= total_) {
      std::fprintf(stdout, "\r%s\033[K", line(extra).c_str());
      std::fflush(stdout);
      last_ = now;
    }
  } else if (since >= interval_s_ && log_) {
    log_->info("{}", line(extra));
    last_ = now;
    logged_done_ = done_;
  }
}

void Progress::finish(const std::string& extra) {
  finished_ = true;
  if (terminal_) std::fprintf(stdout, "\r\033[K");
  // A log whose last line already says 100% gets no second one (it printed "train 2/2" twice).
  if (log_ && (terminal_ || logged_done_ != done_)) log_->info("{}", line(extra));
}

void Progress::finish_quietly() {
  finished_ = true;
  if (terminal_) {
    std::fprintf(stdout, "\r\033[K");
    std::fflush(stdout);
  }
}

}  // namespace tessera::core
