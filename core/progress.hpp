// Progress: done/total, rate and ETA for long loops (both from the last one to two minutes, so
// they follow a change of pace). On a terminal it redraws one line; when
// stdout is not a terminal (CI, batch jobs) it logs a line every `interval_s` seconds instead.
// Under MPI, ranks other than 0 pass terminal = false (their logger has no console sink).
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/recent_rate.hpp"

namespace spdlog {
class logger;
}

namespace tessera::core {

class Progress {
 public:
  Progress(std::shared_ptr<spdlog::logger> log, std::string label, int64_t total, double interval_s = 10.0,
           bool terminal = is_terminal());
  ~Progress();
  void advance(int64_t n = 1, const std::string& extra = "");  // extra: e.g. "loss 1.2e-3"
  void finish(const std::string& extra = "");
  // Ends without a final line (a terminal's line is cleared): for work whose caller reports the
  // result itself, and which shows progress only while it is long.
  void finish_quietly();
  int64_t done() const { return done_; }
  // Work done before this run (a resumed training): the line counts it (`train 1200/2000`, as the
  // validation lines and metrics.csv count steps), the rate and ETA only this run's. Call it before
  // the first advance.
  void start_at(int64_t done_before);
  // A run that stops after `seconds` at the latest (a time budget): the ETA is the earlier of the
  // steps' and the budget's end.
  void set_time_limit(double seconds) { time_limit_s_ = seconds; }
  // Whether stdout is an interactive terminal of this process (false under an MPI launcher and
  // with NO_COLOR set): decides redraws here and colour in the console log.
  static bool is_terminal();
  std::string line(const std::string& extra) const;  // the status text (tested)

 private:
  std::shared_ptr<spdlog::logger> log_;
  std::string label_;
  int64_t total_, done_ = 0, logged_done_ = -1;  // logged_done_: the count of the last logged line
  int64_t done_before_ = 0;                      // start_at's count
  double interval_s_, time_limit_s_ = 0;
  bool terminal_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  RecentRate recent_{60.0};
};

}  // namespace tessera::core
