// core/on_root.hpp, run at np = 1, 2 and 3 (ctest: test_shared_outcome.np1/.np2/.np3): an error
// on some ranks becomes an Error on every rank, with the failing rank's message and deck key, and
// ranks working on their own items stop soon after another fails.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/comm.hpp"
#include "core/error.hpp"
#include "core/failure.hpp"
#include "core/on_root.hpp"
#include "tests/test_paths.hpp"

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
  // With several ranks, the shared error says where it happened (the other ranks had none).
  char host[256] = {0};
  REQUIRE(gethostname(host, sizeof host - 1) == 0);
  const auto where = [&](int rank) { return comm.size() == 1 ? "" : cat(" (on rank ", rank, ", host ", host, ")"); };
  const std::string lowest =
      comm.size() == 3 ? cat("|rank 1 failed", where(1)) : cat("a.key|rank ", last, " failed", where(last));
  if (comm.rank() == last && comm.size() == 3)
    CHECK(got == cat("a.key|rank ", last, " failed"));  // its own: another failure than the one shared
  else
    CHECK(got == lowest);
  // Ranks 1 and 2 of 3 failing alike: one error, naming both (their own lines told them apart).
  if (comm.size() == 3) {
    const std::string both = outcome([&] {
      run_on_every_rank(comm, [&] {
        if (comm.rank() > 0) throw Error("file not found", "mesh.file");
      });
    });
    CHECK(both == cat("mesh.file|file not found (on ranks 1, 2; rank 1 on host ", host, ")"));
  }
  // Every rank failing alike: no rank named (it is every rank's).
  CHECK(outcome([&] { run_on_every_rank(comm, [] { throw Error("no such file", "data.dir"); }); }) ==
        "data.dir|no such file");
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
  // Every rank but 0 fails at its first item (on one rank: rank 0 fails). A rank may be told of
  // another's failure before its own first item, and then runs none.
  const bool fails = comm.size() == 1 || comm.rank() > 0;
  bool threw = false;
  for (int k = 0; k < 3; ++k)
    if (!work.run([&] {
          if (fails) {
            threw = true;
            throw Error(cat("rank ", comm.rank(), "'s item failed"));
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }))
      break;
  int64_t lowest = threw ? comm.size() - comm.rank() : 0;  // the lowest rank that threw: size - max
  comm.allreduce_max(&lowest, 1);
  REQUIRE(lowest > 0);
  const std::string got = outcome([&] { work.finish(); });
  CHECK(got == cat("|rank ", threw ? comm.rank() : comm.size() - lowest, "'s item failed"));
}

TEST_CASE("a copy of another rank's error describes as the original (kind, words, exit code)", "[on_root]") {
  const Comm comm;
  const auto described = [&](const std::function<void()>& failing) {
    try {
      run_on_root(comm, failing);
    } catch (...) {
      const core::Failure f = core::describe_failure(std::current_exception());
      return cat(f.kind, "|", f.key, "|", f.message, "|", f.exit_code);
    }
    return std::string("nothing thrown");
  };
  CHECK(described([&] {
          std::filesystem::create_directories(std::filesystem::path("/proc/tessera-test/x"));
        }).rfind("error||/proc/tessera-test", 0) == 0);
  CHECK(described([] { throw std::logic_error("a defect"); }) == "internal error||a defect|3");
  CHECK(described([] { throw std::bad_alloc(); }) ==
        "error||out of memory (is a size in the deck too large for this machine?)|1");
  CHECK(described([] { throw Error("", "k"); }) == "error|k|failed, with no message|1");
}

TEST_CASE("every rank writing one small file at once: each write succeeds, and no temporary is left", "[atomic]") {
  // The dataset job's part writers all write <parts>/meta.json. Through the one "<path>.tmp" of
  // write_text_atomic, about a quarter of such writes failed at np = 2 (a rename took another
  // process's temporary from under it).
  const Comm comm;
  const std::string dir = cat(test::test_out(), "/shared_text_np", comm.size());
  if (comm.root()) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  comm.barrier();
  int failures = 0;
  for (int k = 0; k < 300; ++k) {
    try {
      core::write_shared_text_atomic(dir + "/meta.json", "{\"same\": true}\n");
    } catch (const Error&) {
      ++failures;
    }
  }
  CHECK(failures == 0);
  comm.barrier();
  std::ifstream in(dir + "/meta.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "{\"same\": true}\n");
  int left = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) left += e.path().filename() != "meta.json";
  CHECK(left == 0);
}
