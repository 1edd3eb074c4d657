// The shared training loop (train/loop.hpp) on a learner that only counts steps: metrics.csv
// across resumes that report other figures, damaged rows, and non-finite figures.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/atomic_file.hpp"
#include "core/child_process.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/stop_request.hpp"
#include "tests/test_paths.hpp"
#include "train/loop.hpp"

using namespace tessera;
static const std::string loop_out = tessera::test::test_out() + "/train";

namespace {

// A learner that only counts steps and reports the figures it is given (a resumed run is one
// constructed at a later step), for the loop's metrics.csv.
class CountingLearner : public train::Learner {
 public:
  CountingLearner(int64_t done, std::vector<std::string> names) : done_(done), names_(std::move(names)) {}
  double step() override { return double(++done_); }
  int64_t steps_done() const override { return done_; }
  std::vector<train::Metric> validate() override {
    std::vector<train::Metric> m;
    for (size_t k = 0; k < names_.size(); ++k) m.emplace_back(names_[k], double(10 * done_ + int64_t(k)));
    return m;
  }
  void save(const std::string& path) const override { core::write_text_atomic(path, cat(done_)); }

 private:
  int64_t done_;
  std::vector<std::string> names_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("metrics.csv keeps the history when a resumed run reports other figures", "[train][loop]") {
  // A resume on another rank count reports other bytes_rank<r> columns: the earlier rows were
  // dropped and the table started anew. Now a new figure is a new column, empty where unknown.
  const std::string dir = loop_out + "/metrics_columns";
  std::filesystem::remove_all(dir);
  train::LoopOptions o;
  o.steps = 4;
  o.validate_every = 2;
  o.output_dir = dir;
  CountingLearner first(0, {"loss", "bytes_rank0", "bytes_rank1", "bytes_total"});
  train::run_training(first, o, Comm::self(), nullptr);
  CHECK(read_text(dir + "/metrics.csv") ==
        "step,loss,bytes_rank0,bytes_rank1,bytes_total\n"
        "2,20,21,22,23\n"
        "4,40,41,42,43\n");
  o.steps = 6;
  CountingLearner resumed(4, {"loss", "bytes_rank0", "bytes_total", "val_acc"});
  train::run_training(resumed, o, Comm::self(), nullptr);
  CHECK(read_text(dir + "/metrics.csv") ==
        "step,loss,bytes_rank0,bytes_rank1,bytes_total,val_acc\n"
        "2,20,21,22,23,\n"
        "4,40,41,42,43,\n"
        "6,60,61,,62,63\n");
  // A non-finite figure is written and said (a warning naming it).
  {
    core::LogOptions to_file;
    to_file.rank_dir = dir + "_log";
    std::filesystem::remove_all(to_file.rank_dir);
    const auto log = core::make_logger("test", Comm::self(), to_file);  // flushes every line
    const train::LoopOptions again = [&] {
      train::LoopOptions a = o;
      a.steps = 8;
      a.output_dir = dir + "_inf";
      return a;
    }();
    std::filesystem::remove_all(again.output_dir);
    class Overflowing : public CountingLearner {
     public:
      using CountingLearner::CountingLearner;
      std::vector<train::Metric> validate() override { return {{"loss", 1.0}, {"valid_rmse", INFINITY}}; }
    } overflowing(6, {});
    train::run_training(overflowing, again, Comm::self(), log);
    CHECK(read_text(to_file.rank_dir + "/test.rank0.log")
              .find("validation at step 8 gave non-finite figures: valid_rmse = inf") != std::string::npos);
  }
  // A row with another number of values than the header is refused by line.
  std::ofstream(dir + "/metrics.csv", std::ios::app) << "5,1,2\n";
  CountingLearner damaged(6, {"loss"});
  o.steps = 8;
  CHECK_THROWS_WITH(train::run_training(damaged, o, Comm::self(), nullptr),
                    Catch::Contains("metrics.csv:5: 3 values for the header's 6 columns"));
}

TEST_CASE("a stop for a resume (SIGUSR1) adds no validation off the schedule", "[train][loop]") {
  // The stop validated the step it stopped after, as the end of a run is: a SPEN fold kept that
  // accuracy in its history and reported another result after the resume than a run that never
  // stopped. In a child process: the stop request stays set in the process that received it.
  const std::string dir = loop_out + "/stop_no_validation";
  std::filesystem::remove_all(dir);
  const std::string metrics = core::run_in_child(
      [&] {
        core::stop_on_signal(SIGUSR1);
        class Stopping : public CountingLearner {
         public:
          using CountingLearner::CountingLearner;
          double step() override {
            const double l = CountingLearner::step();
            if (steps_done() == 3) std::raise(SIGUSR1);  // a batch system's warning during step 3
            return l;
          }
        } learner(0, {"loss"});
        train::LoopOptions o;
        o.steps = 10;
        o.validate_every = 2;
        o.output_dir = dir;
        try {
          train::run_training(learner, o, Comm::self(), nullptr);
        } catch (const core::StoppedBySignal&) {
          return read_text(dir + "/metrics.csv") + "checkpoint at " + read_text(dir + "/checkpoint.h5");
        }
        return std::string("not stopped");
      },
      "the stopped run", "");
  CHECK(metrics == "step,loss\n2,20\ncheckpoint at 3");
}

TEST_CASE("a resume into another folder continues metrics.csv and loss.csv from the checkpoint's", "[train][loop]") {
  // A resume into a new output.dir began both histories anew (training.png showed that run alone),
  // and the smoothed loss restarted from the first step's. Now the rows up to the checkpoint's
  // step come from its folder, and the files equal those of a run that never stopped.
  const std::string base = loop_out + "/resume_elsewhere";
  std::filesystem::remove_all(base);
  train::LoopOptions o;
  o.steps = 10;
  o.validate_every = 2;
  o.checkpoint_every = 2;
  o.output_dir = base + "/whole";
  CountingLearner whole(0, {"loss"});
  train::run_training(whole, o, Comm::self(), nullptr);
  // The first run goes on past step 4, the checkpoint resumed (rows after it are dropped).
  o.steps = 6;
  o.output_dir = base + "/first";
  CountingLearner first(0, {"loss"});
  train::run_training(first, o, Comm::self(), nullptr);
  o.steps = 10;
  o.output_dir = base + "/second";
  o.resumed_from = base + "/first/checkpoint.h5";
  CountingLearner second(4, {"loss"});
  train::run_training(second, o, Comm::self(), nullptr);
  const std::string loss = read_text(base + "/whole/loss.csv");
  // The smoothed loss: the losses so far weighted 0.98 to the power of their age, over the weights'
  // sum (1 and 2: (0.98 + 2) / 1.98).
  REQUIRE(loss.rfind("step,loss,smoothed\n1,1,1\n2,2,", 0) == 0);
  CHECK(std::stod(loss.substr(loss.find("\n2,2,") + 5)) == Approx((0.98 * 1 + 2) / 1.98).epsilon(1e-14));
  const size_t row10 = loss.find("\n10,10,");
  REQUIRE(row10 != std::string::npos);
  double weighted = 0, weights = 0;
  for (int i = 1; i <= 10; ++i) weighted += std::pow(0.98, 10 - i) * i, weights += std::pow(0.98, 10 - i);
  CHECK(std::stod(loss.substr(row10 + 7)) == Approx(weighted / weights).epsilon(1e-13));
  CHECK(std::count(loss.begin(), loss.end(), '\n') == 11);
  CHECK(read_text(base + "/second/loss.csv") == loss);
  CHECK(read_text(base + "/second/metrics.csv") == read_text(base + "/whole/metrics.csv"));
  CHECK(read_text(base + "/first/loss.csv").size() < loss.size());  // the first run's files stay as they were
  // The checkpoint named without a folder, from the working directory (as a deck beside it gives
  // it): its folder is the working directory (the rows were looked for in "/").
  {
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(base + "/first");
    train::LoopOptions bare = o;
    bare.output_dir = base + "/bare";
    bare.resumed_from = "checkpoint.h5";
    CountingLearner fourth(4, {"loss"});
    train::run_training(fourth, bare, Comm::self(), nullptr);
    std::filesystem::current_path(cwd);
    CHECK(read_text(base + "/bare/loss.csv") == loss);
    CHECK(read_text(base + "/bare/metrics.csv") == read_text(base + "/whole/metrics.csv"));
  }
  // Steps as integers (the shortest double form wrote 100000 as 1e+05).
  {
    train::LoopOptions big = o;
    big.steps = 100001;
    big.output_dir = base + "/big";
    big.resumed_from.clear();
    CountingLearner late(99998, {"loss"});
    train::run_training(late, big, Comm::self(), nullptr);
    const std::string text = read_text(base + "/big/loss.csv");
    CHECK(text.rfind("step,loss,smoothed\n99999,99999,99999\n100000,1e+05,", 0) == 0);  // losses: shortest form
    CHECK(text.find("\n100001,100001,") != std::string::npos);
    // Resumed without a loss history: the average begins at the first step run (99999), and is
    // the weighted mean of the losses since (at 100001: 99999, 100000, 100001).
    const size_t last = text.find("\n100001,100001,");
    const double since = (0.98 * 0.98 * 99999 + 0.98 * 100000 + 100001) / (0.98 * 0.98 + 0.98 + 1);
    CHECK(std::stod(text.substr(last + 15)) == Approx(since).epsilon(1e-14));
  }
  // A damaged row is refused by file and line.
  std::ofstream(base + "/second/loss.csv", std::ios::app) << "11,1\n";
  o.steps = 12;
  o.resumed_from.clear();
  CountingLearner third(12 - 1, {"loss"});
  CHECK_THROWS_WITH(train::run_training(third, o, Comm::self(), nullptr),
                    Catch::Contains("second/loss.csv:12: expected three numbers (step, loss, smoothed), not '11,1'"));
}

// loss.csv was rewritten whole at every checkpoint: 10^6 steps wrote about 21 GB. It is appended
// to after a run's first write (the file stays the same file: its inode at each save), and an
// append that a kill cut short, an unfinished last line, is skipped by the resume.
TEST_CASE("loss.csv grows by appends, and a resume skips an unfinished last line", "[train][loop]") {
  class InodeLearner : public CountingLearner {
   public:
    using CountingLearner::CountingLearner;
    void save(const std::string& path) const override {
      CountingLearner::save(path);
      struct stat st {};
      REQUIRE(::stat((std::filesystem::path(path).parent_path() / "loss.csv").c_str(), &st) == 0);
      inodes.push_back(st.st_ino);
    }
    mutable std::vector<ino_t> inodes;
  };
  const std::string base = loop_out + "/loss_appends";
  std::filesystem::remove_all(base);
  train::LoopOptions o;
  o.steps = 10;
  o.validate_every = 0;
  o.checkpoint_every = 2;
  o.output_dir = base;
  InodeLearner first(0, {});
  train::run_training(first, o, Comm::self(), nullptr);
  REQUIRE(first.inodes.size() >= 5);  // steps 2, 4, ..., 10 (and the end's)
  CHECK(size_t(std::count(first.inodes.begin(), first.inodes.end(), first.inodes[0])) == first.inodes.size());
  const std::string whole = read_text(base + "/loss.csv");
  CHECK(std::count(whole.begin(), whole.end(), '\n') == 11);
  CHECK(whole.find("\n10,10,") != std::string::npos);
  // A kill during the append of steps 11 and 12 (after step 10's checkpoint) left part of a row.
  std::ofstream(base + "/loss.csv", std::ios::app) << "11,1";  // no third number, no newline
  o.steps = 12;
  o.resumed_from = base + "/checkpoint.h5";
  InodeLearner resumed(10, {});
  train::run_training(resumed, o, Comm::self(), nullptr);
  const std::string after = read_text(base + "/loss.csv");
  CHECK(after.rfind(whole, 0) == 0);  // the rows up to step 10 as they were
  CHECK(std::count(after.begin(), after.end(), '\n') == 13);
  CHECK(after.find("\n11,11,") != std::string::npos);
  // A file that is not there is no append.
  CHECK_FALSE(core::append_text(base + "/missing.csv", "x\n"));
  CHECK_FALSE(std::filesystem::exists(base + "/missing.csv"));
}
