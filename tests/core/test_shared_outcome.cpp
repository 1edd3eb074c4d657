// core/on_root.hpp, run at np = 1, 2 and 3 (ctest: test_shared_outcome.np1/.np2/.np3): an error
// on some ranks becomes an Error on every rank, with the failing rank's message and deck key, and
// ranks working on their own items stop soon after another fails.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "core/comm.hpp"
#include "core/error.hpp"
#include "core/on_root.hpp"

using namespace tessera;

namespace {

// What `work` threw on this rank: "key|message", or "" when nothing.
template <class Work>
std::string outcome(Work work) {
  try {
    work();
  } catch (const Error& e) {
    return e.key() + "|" + e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("run_on_root shares rank 0's error and its key", "[on_root]") {
  const Comm comm;
  int ran = 0;
  CHECK(outcome([&] { run_on_root(comm, [&] { ++ran; }); }).empty());
  CHECK(ran == (comm.root() ? 1 : 0));
  CHECK(outcome([&] { run_on_root(comm, [] { throw Error("disk full", "output.dir"); }); }) == "output.dir|disk full");
}

TEST_CASE("run_on_every_rank shares the lowest failing rank's error", "[on_root]") {
  const Comm comm;
  CHECK(outcome([&] { run_on_every_rank(comm, [] {}); }).empty());
  // The last rank fails with a keyed error, and on 3 ranks rank 1 too, with another.
  const int last = comm.size() - 1;
  const std::string got = outcome([&] {
    run_on_every_rank(comm, [&] {
      if (comm.rank() == last) throw Error(cat("rank ", last, " failed"), "a.key");
      if (comm.rank() == 1) throw Error("rank 1 failed");
    });
  });
  const std::string lowest = comm.size() == 3 ? "|rank 1 failed" : cat("a.key|rank ", last, " failed");
  if (comm.rank() == last)
    CHECK(got == cat("a.key|rank ", last, " failed"));  // its own
  else if (comm.rank() == 1)
    CHECK(got == "|rank 1 failed");
  else
    CHECK(got == lowest);
}

TEST_CASE("IndependentWork runs every item when none fails", "[on_root]") {
  const Comm comm;
  IndependentWork work(comm);
  int ran = 0;
  for (int k = comm.rank(); k < 10; k += comm.size())
    if (!work.run([&] { ++ran; })) break;
  CHECK_NOTHROW(work.finish());
  CHECK(ran == (10 - comm.rank() + comm.size() - 1) / comm.size());
}

TEST_CASE("IndependentWork: a failing rank stops the others, and its error is every rank's", "[on_root]") {
  const Comm comm;
  const int last = comm.size() - 1;
  // The last rank fails at its second item; the others would work for 20 s (2,000 items of 10 ms).
  constexpr int kItems = 2000;
  IndependentWork work(comm);
  int ran = 0;
  bool stopped = false;
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < kItems; ++k) {
    const bool done = work.run([&] {
      if (comm.rank() == last && ran == 1) throw Error("trajectory 7 diverged", "solver.petsc_options");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      ++ran;
    });
    if (!done) {
      stopped = true;
      break;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(stopped);
  CHECK(seconds < 5);
  if (comm.rank() == last) CHECK(ran == 1);
  CHECK(outcome([&] { work.finish(); }) == "solver.petsc_options|trajectory 7 diverged");
  // Once stopped, run() runs nothing more.
  bool ran_after = false;
  CHECK_FALSE(work.run([&] { ran_after = true; }));
  CHECK_FALSE(ran_after);
}

TEST_CASE("IndependentWork: ranks that fail each keep their own error; the others get the lowest's", "[on_root]") {
  const Comm comm;
  IndependentWork work(comm);
  // Every rank but 0 fails at its first item (on one rank: rank 0 fails).
  const bool fails = comm.size() == 1 || comm.rank() > 0;
  for (int k = 0; k < 3; ++k)
    if (!work.run([&] {
          if (fails) throw Error(cat("rank ", comm.rank(), "'s item failed"));
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }))
      break;
  const std::string got = outcome([&] { work.finish(); });
  CHECK(got == (fails ? cat("|rank ", comm.rank(), "'s item failed") : "|rank 1's item failed"));
}
