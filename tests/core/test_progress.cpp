// core::Progress and core::RecentRate: the status text, a resumed count, the rate's window, and
// which lines reach a log.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "core/progress.hpp"
#include "core/recent_rate.hpp"

using namespace tessera;

TEST_CASE("progress text", "[progress]") {
  core::Progress p(nullptr, "steps", 200, 10.0, false);
  p.advance(50);
  std::string l = p.line("loss 0.5");
  CHECK(l.rfind("steps 50/200  25.0% ", 0) == 0);
  CHECK(l.find("ETA") != std::string::npos);
  CHECK(l.find("loss 0.5") != std::string::npos);
  // Under a time budget the ETA is at most the budget left: 10^6 steps at 5 per 50 ms or more
  // would take hours (the control), a 2 s budget ends within 2 s.
  core::Progress budget(nullptr, "train", 1000000, 10.0, false), control(nullptr, "train", 1000000, 10.0, false);
  budget.set_time_limit(2.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  budget.advance(5);
  control.advance(5);
  INFO(control.line("") << "\n" << budget.line(""));
  CHECK(control.line("").find("ETA 00:") == std::string::npos);  // hours, or --:-- beyond 100 h
  CHECK(budget.line("").find("ETA 00:0") != std::string::npos);
}

TEST_CASE("progress of resumed work counts the earlier work, its rate only this run's", "[progress]") {
  core::Progress p(nullptr, "train", 20, 10.0, false);
  p.start_at(10);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  p.advance(1);
  const std::string l = p.line("");
  INFO(l);
  CHECK(l.rfind("train 11/20  55.0% ", 0) == 0);
  // One step in 50 ms or more: a rate of at most 20/s, not 11 steps' (220/s), and an ETA for the
  // 9 steps left.
  const double rate = std::stod(l.substr(l.find("% ") + 2));
  CHECK(rate > 0);
  CHECK(rate < 25);
  CHECK(l.find("ETA 00:") != std::string::npos);
}

TEST_CASE("progress rate follows a change of pace", "[progress]") {
  // 300 steps at 2 per second, then steps of 10 s (a PINN's Adam, then its L-BFGS): the average
  // since the start (1.7 per second at the switch) would promise the last 50 steps in 30 s.
  core::RecentRate rate(60.0);
  double t = 0;
  int64_t done = 0;
  for (; done < 300;) rate.add(t += 0.5, ++done);
  CHECK(rate.per_second(t, done) == Approx(2.0));
  for (int k = 0; k < 6; ++k) rate.add(t += 10.0, ++done);
  CHECK(rate.per_second(t, done) < 1.0);  // slowing within the first window
  for (int k = 0; k < 18; ++k) rate.add(t += 10.0, ++done);
  CHECK(rate.per_second(t, done) == Approx(0.1));  // two windows on: the new pace alone
  CHECK(rate.per_second(t + 20.0, done) < 0.1);    // a step under way counts its time
  // Steady work: the same rate as the average, also in the first window.
  core::RecentRate steady(60.0);
  steady.add(5.0, 10);
  CHECK(steady.per_second(5.0, 10) == Approx(2.0));
  CHECK(core::RecentRate(60.0).per_second(0.0, 0) == 0.0);
}

TEST_CASE("progress lines in a log: the last one once, none for a quiet finish", "[progress]") {
  std::ostringstream text;
  auto log = std::make_shared<spdlog::logger>("p", std::make_shared<spdlog::sinks::ostream_sink_st>(text));
  log->set_pattern("%v");
  auto count = [&](const std::string& what) {
    const std::string s = text.str();
    int64_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  };
  {
    core::Progress p(log, "train", 2, 0.0, false);  // interval 0: a line at every advance
    p.advance(1, "loss 2");
    p.advance(1, "loss 1");
    p.finish("loss 1");  // the 2/2 line is logged already (it was logged twice)
  }
  CHECK(count("train 1/2") == 1);
  CHECK(count("train 2/2") == 1);
  {
    core::Progress p(log, "train", 2, 1e9, false);  // no line during the run: the finish gives it
    p.advance(2);
    p.finish();
  }
  CHECK(count("train 2/2") == 2);
  {
    core::Progress p(log, "validation", 3, 1e9, false);  // short work reported by its caller
    p.advance(3);
    p.finish_quietly();
  }  // nor from the destructor
  CHECK(count("validation") == 0);
  {
    core::Progress p(log, "validation", 3, 0.0, false);  // long work: its lines while it runs
    p.advance(1);
    p.finish_quietly();
  }
  CHECK(count("validation 1/3") == 1);
  CHECK(count("validation") == 1);
  {
    core::Progress p(log, "train", 200, 1e9, false);  // stopped early: no time left to estimate
    p.advance(4);
    p.finish();
  }
  CHECK(count("train 4/200") == 1);
  CHECK(count("stopped") == 1);
  CHECK(text.str().rfind("ETA") < text.str().find("train 4/200"));  // no ETA on that line
}
