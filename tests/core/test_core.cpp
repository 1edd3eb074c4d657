// core: progress text, atomic files, input files, errors carrying a key, Comm on one rank.
#include <fcntl.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/build_info.hpp"
#include "core/child_process.hpp"
#include "core/comm.hpp"
#include "core/cores.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/interrupt_note.hpp"
#include "core/log.hpp"
#include "core/memory.hpp"
#include "core/output_claim.hpp"
#include "core/progress.hpp"
#include "core/recent_rate.hpp"
#include "core/regular_file.hpp"
#include "core/stop_request.hpp"
#include "tessera/config.hpp"
#include "tests/file_size_limit.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;

TEST_CASE("errors carry an optional key", "[error]") {
  const Error plain(cat("value ", 3, " is bad"));
  CHECK(std::string(plain.what()) == "value 3 is bad");
  CHECK(plain.key().empty());
  const Error keyed("must be > 0", "train.steps");
  CHECK(keyed.key() == "train.steps");
  CHECK(std::string(keyed.what()) == "must be > 0");
}

TEST_CASE("counts with their noun in the right number", "[log]") {
  CHECK(core::counted(1, "rank", "ranks") == "1 rank");
  CHECK(core::counted(int64_t(2), "rank", "ranks") == "2 ranks");
  CHECK(core::counted(size_t(0), "trajectory", "trajectories") == "0 trajectories");
}

TEST_CASE("Comm of this process alone", "[comm]") {
  const Comm self = Comm::self();
  CHECK(self.size() == 1);
  CHECK(self.root());
  double x[2] = {1.5, -2};
  self.allreduce_sum(x, 2);
  CHECK(x[0] == 1.5);
  CHECK(x[1] == -2);
}

TEST_CASE("ratios in log lines: a zero baseline is named, not printed as nan", "[log]") {
  CHECK(core::sci_ratio(1, 4) == "2.5000e-01");
  CHECK(core::sci_ratio(0, 0) == "undefined");  // a flow that does not change: persistence is exact
  CHECK(core::sci_ratio(3e-3, 0) == "undefined");
  // Figures for people: three digits, no exponent for large whole numbers (a 1234x speed-up).
  CHECK(core::sig3(79.269005) == "79.3");
  CHECK(core::sig3(0.63927) == "0.639");
  CHECK(core::sig3(6.6666667) == "6.67");
  CHECK(core::sig3(1234.4) == "1234");
  CHECK(core::sig3(2.5e-4) == "0.00025");
}

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

TEST_CASE("provenance lines name the code, the build's libraries, the ranks and the machine", "[provenance]") {
  const std::string p = core::provenance_comment(3);
  INFO(p);
  // Two comment lines, each ending in a newline.
  REQUIRE(p.size() > 2);
  CHECK(p.back() == '\n');
  CHECK(std::count(p.begin(), p.end(), '\n') == 2);
  const std::string first = p.substr(0, p.find('\n')), second = p.substr(p.find('\n') + 1);
  CHECK(first.rfind(cat("# tessera ", TESSERA_VERSION, " (git ", core::git_commit(), ")"), 0) == 0);
  CHECK(first.find(core::build_libraries()) != std::string::npos);
  CHECK(second.rfind("# run on 3 ranks, rank 0 on host ", 0) == 0);
  CHECK(core::provenance_comment(1).find("\n# run on 1 rank on host ") != std::string::npos);
  CHECK(second.find(core::cpu_description()) != std::string::npos);
  // A git checkout's commit: 12 hex digits, "-dirty" with uncommitted changes (a build from an
  // unpacked archive says "unknown ...").
  const std::string commit = core::git_commit();
  if (commit.rfind("unknown", 0) != 0) {
    REQUIRE(commit.size() >= 12);
    CHECK(commit.substr(0, 12).find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK((commit.size() == 12 || commit.substr(12) == "-dirty"));
  }
#if defined(__x86_64__)
  // On x86-64 Linux: the CPU's name, then its vector extensions.
  CHECK(core::cpu_description().find("; ") != std::string::npos);
#endif
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

TEST_CASE("atomic text files leave no temporary behind", "[atomic]") {
  const std::string dir = tessera::test::test_out() + "/atomic";
  std::filesystem::remove_all(dir);
  core::write_text_atomic(dir + "/a/b.txt", "hello\n");
  std::ifstream in(dir + "/a/b.txt");
  std::string line;
  std::getline(in, line);
  CHECK(line == "hello");
  CHECK_FALSE(std::filesystem::exists(core::temp_path(dir + "/a/b.txt")));
  CHECK_THROWS_WITH(core::commit_temp(dir + "/none.txt"), Catch::Contains("cannot move the finished file into place"));
  // A directory where the file should go: one message saying so, and no temporary left behind.
  std::filesystem::create_directories(dir + "/taken.csv");
  CHECK_THROWS_WITH(core::write_text_atomic(dir + "/taken.csv", "x\n"),
                    Catch::Contains("taken.csv: cannot move the finished file into place: a directory of that name"));
  CHECK_FALSE(std::filesystem::exists(core::temp_path(dir + "/taken.csv")));
  // A write that fails half-way (the disk full) is an error naming the file, and leaves neither
  // the file nor its temporary.
  {
    tessera::test::FileSizeLimit full(64 * 1024);
    CHECK_THROWS_WITH(core::write_text_atomic(dir + "/big.txt", std::string(1 << 20, 'x')),
                      Catch::Contains("big.txt.tmp: writing 1048576 bytes failed: File too large"));
    core::write_text_atomic(dir + "/small.txt", "fits\n");  // under the limit: written
  }
  CHECK_FALSE(std::filesystem::exists(dir + "/big.txt"));
  CHECK_FALSE(std::filesystem::exists(core::temp_path(dir + "/big.txt")));
  CHECK(std::filesystem::file_size(dir + "/small.txt") == 5);
  // A temporary folder (write_pvtu's staging) is removed whole unless kept; only by its owner.
  std::filesystem::create_directories(dir + "/stage/sub");
  { core::TemporaryOutput stage(dir + "/stage", /*owner=*/false); }
  CHECK(std::filesystem::exists(dir + "/stage/sub"));
  { core::TemporaryOutput stage(dir + "/stage"); }
  CHECK_FALSE(std::filesystem::exists(dir + "/stage"));
}

TEST_CASE("a claim on output files stops a second writer, names the first, and ends with its run", "[claim]") {
  namespace fs = std::filesystem;
  const std::string dir = tessera::test::test_out() + "/claim";
  fs::remove_all(dir);
  const std::string out = dir + "/a/b";  // made by the claim, with its parent
  fs::create_directories(dir);
  {
    core::OutputClaims first;
    REQUIRE(first.claim(out, "training", "tessera-train").refused.empty());
    CHECK(fs::exists(out + "/.training.lock"));
    CHECK(first.claim(out, "training", "tessera-train").refused.empty());  // held already: a no-op
    // Another claim on the same files (another open file: flock tells them apart, within one
    // process as between two) is refused, naming the holder.
    core::OutputClaims second;
    const core::ClaimOutcome o = second.claim(out, "training", "tessera-train");
    INFO(o.refused);
    CHECK(o.refused.rfind(cat("is in use by another run (tessera-train, pid ", ::getpid(), " on host ",
                              core::host_name(), ", since 20"),
                          0) == 0);
    CHECK_FALSE(o.unsupported);
    // Files of other names in the same folder are not held back.
    CHECK(second.claim(out, "rollout", "tessera-rollout").refused.empty());
  }
  // Released: the lock files are gone, and so are the folders the claims made (still empty).
  CHECK_FALSE(fs::exists(dir + "/a"));
  CHECK(fs::exists(dir));
  // A holder killed before it released (here a child that ends without its destructors) leaves
  // its lock file, but no lock: the next run claims the files.
  const pid_t child = ::fork();
  if (child == 0) {
    auto* leaked = new core::OutputClaims;
    ::_exit(leaked->claim(out, "training", "tessera-train").refused.empty() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(fs::exists(out + "/.training.lock"));
  // Its unfinished files (the prefixes given) go with the claim; others' stay, as do finished ones.
  for (const char* f : {"checkpoint.h5.tmp", "checkpoint.pt.tmp", "rollout_000007.h5.tmp", "checkpoint.h5"})
    std::ofstream(out + "/" + f) << "x";
  {
    core::OutputClaims next;
    const core::ClaimOutcome o = next.claim(out, "training", "tessera-train", {"checkpoint.", "loss.csv"});
    CHECK(o.refused.empty());
    CHECK(o.removed_temporaries ==
          std::vector<std::string>{fs::absolute(out + "/checkpoint.h5.tmp").lexically_normal().string(),
                                   fs::absolute(out + "/checkpoint.pt.tmp").lexically_normal().string()});
  }
  CHECK(fs::exists(out + "/rollout_000007.h5.tmp"));
  CHECK(fs::exists(out + "/checkpoint.h5"));
  CHECK_FALSE(fs::exists(out + "/.training.lock"));  // the folder holds files: it stays
  // A claim held now by another run whose name begins as this one's: its unfinished files are its
  // own, not a killed run's (a new "rollout" removed a running "rollout_fine"'s).
  for (const char* f : {"rollout_fine_000001.h5.tmp", "rollout_000001.h5.tmp"}) std::ofstream(out + "/" + f) << "x";
  {
    core::OutputClaims fine, plain;
    REQUIRE(fine.claim(out, "rollout_fine", "tessera-rollout").refused.empty());
    const core::ClaimOutcome o = plain.claim(out, "rollout", "tessera-rollout", {"rollout.", "rollout_"});
    CHECK(o.refused.empty());
    CHECK(o.removed_temporaries ==
          std::vector<std::string>{fs::absolute(out + "/rollout_000001.h5.tmp").lexically_normal().string(),
                                   fs::absolute(out + "/rollout_000007.h5.tmp").lexically_normal().string()});
    CHECK(fs::exists(out + "/rollout_fine_000001.h5.tmp"));
  }
}

TEST_CASE("an interrupted process removes its unfinished temporary files", "[atomic]") {
  const std::string dir = tessera::test::test_out() + "/interrupted";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string unfinished = dir + "/out.h5.tmp", finished = dir + "/done.csv.tmp", other = dir + "/other.tmp";
  std::ofstream(other) << "not ours\n";
  // In a child, as an app: a finished temporary (kept), an unfinished one, then SIGTERM.
  std::fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int err = ::open((dir + "/stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, STDERR_FILENO);
    core::remove_temporaries_on_interrupt("tessera-test");
    core::TemporaryOutput done(finished);
    std::ofstream(finished) << "x\n";
    done.keep();
    core::TemporaryOutput open(unfinished);
    std::ofstream(unfinished) << "half\n";
    ::raise(SIGTERM);
    _exit(0);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);  // the exit status a batch system expects (128 + 15)
  CHECK_FALSE(std::filesystem::exists(unfinished));
  CHECK(std::filesystem::exists(finished));  // kept: the caller moves it into place
  CHECK(std::filesystem::exists(other));     // not this process's
  std::ifstream in(dir + "/stderr.txt");
  std::string line;
  std::getline(in, line);
  CHECK(line == "tessera-test: interrupted by SIGTERM; its unfinished output files were removed");
}

// The first write on stderr of a child that runs `setup` as an app would, then gets SIGTERM. A
// sequenced-packet socket keeps each write a message of its own: the first message read is the
// first write.
std::string interrupt_message(const std::function<void()>& setup, int rank = 0) {
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) == 0);
  std::fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pair[0]);
    ::dup2(pair[1], STDERR_FILENO);
    core::remove_temporaries_on_interrupt("tessera-test", rank);
    setup();
    ::raise(SIGTERM);
    _exit(0);  // not reached
  }
  ::close(pair[1]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  char buf[1024];
  const ssize_t n = ::recv(pair[0], buf, sizeof buf, 0);
  ::close(pair[0]);
  REQUIRE(n >= 0);  // 0: the child wrote nothing before it ended
  return std::string(buf, static_cast<size_t>(n));
}

TEST_CASE("an interrupted process reports in one write, which other ranks' lines cannot split", "[atomic]") {
  // (Written in four pieces, two ranks' lines interleaved under mpirun.)
  CHECK(interrupt_message([] {}) == "tessera-test: interrupted by SIGTERM\n");
  // Ranks other than 0 say nothing (mpirun passes the signal on to every rank, and each printed
  // the line), unless they removed files of their own.
  CHECK(interrupt_message([] {}, 1).empty());
  const std::string piece = tessera::test::test_out() + "/interrupted_rank1.vtu.tmp";
  CHECK(interrupt_message(
            [&] {
              static core::TemporaryOutput open(piece);
              std::ofstream(piece) << "half\n";
            },
            1) == "tessera-test: interrupted by SIGTERM; its unfinished output files were removed\n");
}

TEST_CASE("an interrupted run names what it leaves to go on from: the latest note", "[atomic]") {
  CHECK(interrupt_message([] {
          core::set_interrupt_note("its last checkpoint is a.h5 (step 10)");
          core::set_interrupt_note("its last checkpoint is a.h5 (step 20)");  // replaces the first
          core::set_interrupt_note("its last checkpoint is a.h5 (step 30)");
        }) == "tessera-test: interrupted by SIGTERM; its last checkpoint is a.h5 (step 30)\n");
  // A note longer than its buffer is cut at 511 bytes, not written past it.
  CHECK(interrupt_message([] { core::set_interrupt_note(std::string(2000, 'x')); }) ==
        "tessera-test: interrupted by SIGTERM; " + std::string(511, 'x') + "\n");
  // "" removes the note.
  CHECK(interrupt_message([] {
          core::set_interrupt_note("a note");
          core::set_interrupt_note("");
        }) == "tessera-test: interrupted by SIGTERM\n");
}

TEST_CASE("an interrupted run removes its claims' lock files and the empty folders they made", "[claim]") {
  namespace fs = std::filesystem;
  const std::string dir = tessera::test::test_out() + "/claim-interrupted";
  fs::remove_all(dir);
  fs::create_directories(dir + "/kept");
  // Without a word (no "unfinished output files were removed"): they are not outputs. A folder
  // that holds a file stays, with the file; its lock file goes.
  CHECK(interrupt_message([&] {
          auto* claims = new core::OutputClaims;  // held when the signal comes: never released
          REQUIRE(claims->claim(dir + "/a/b", "training", "tessera-test").refused.empty());
          REQUIRE(claims->claim(dir + "/kept/c", "rollout", "tessera-test").refused.empty());
          std::ofstream(dir + "/kept/c/rollout.xmf") << "x";
        }) == "tessera-test: interrupted by SIGTERM\n");
  CHECK_FALSE(fs::exists(dir + "/a"));
  CHECK(fs::exists(dir + "/kept/c/rollout.xmf"));
  CHECK_FALSE(fs::exists(dir + "/kept/c/.rollout.lock"));
}

TEST_CASE("a thread count beyond this process's cores is named with the key that sets it", "[threads]") {
  const int cores = core::cores_available();
  REQUIRE(cores >= 1);
  REQUIRE(cores <= static_cast<int>(std::thread::hardware_concurrency()));
  CHECK(core::threads_warning(cores, "train.threads").empty());
  CHECK(core::threads_warning(1, "train.threads").empty());
  CHECK(core::threads_warning(1024, "rollout.threads") ==
        cat("threads: 1024 per process, more than the ", cores, " core", cores == 1 ? "" : "s",
            " this process may run on: threads beyond the cores wait for each other and slow the run down (set "
            "rollout.threads to at most ",
            cores, "; under mpirun, each rank's share)"));
  // Ranks that may each run on every core share them: 2 threads each for 2 ranks on 2 cores are
  // 4 threads on 2 cores (mpirun --bind-to none, or Slurm without binding). ctest runs unbound.
  if (cores >= 2 && cores == static_cast<int>(std::thread::hardware_concurrency())) {
    core::set_processes_on_this_machine(2);
    CHECK(core::cores_share() == cores / 2);
    CHECK(core::threads_warning(cores / 2, "train.threads").empty());
    const std::string w = core::threads_warning(cores, "train.threads");
    core::set_processes_on_this_machine(1);
    CHECK(w == cat("threads: ", cores, " per process, and 2 ranks on this machine share its ", cores, " cores: ",
                   2 * cores, " threads wait for each other and slow the run down (set train.threads to at most ",
                   cores / 2, ", or bind each rank to cores of its own: mpirun --map-by slot:PE=<threads>)"));
  }
  CHECK(core::cores_share() == cores);
}

TEST_CASE("an input that must be a file names what it is instead", "[files]") {
  const std::string dir = tessera::test::test_out() + "/regular";
  std::filesystem::create_directories(dir + "/folder.h5");
  std::ofstream(dir + "/file.h5") << "x";
  CHECK_NOTHROW(core::require_regular_file(dir + "/file.h5", "an HDF5 file"));
  CHECK_THROWS_WITH(core::require_regular_file(dir + "/folder.h5", "an HDF5 file"),
                    Catch::Equals(dir + "/folder.h5: is a directory; expected an HDF5 file"));
  CHECK_THROWS_WITH(core::require_regular_file(dir + "/none.h5", "an HDF5 file"),
                    Catch::Equals(dir + "/none.h5: file not found"));
}

TEST_CASE("a reading child ends with its parent and keeps none of its signal handlers", "[child]") {
  // A parent (a forked copy of this test) whose SIGPIPE handler never returns, as PETSc's (it
  // called MPI_Abort, which sleeps), starts a child and is killed while the child works. The
  // child, writing its reply into a pipe nobody reads, slept in that handler for ever, holding the
  // parent's open files; now it ends with its parent.
  if (const char* off = std::getenv("TESSERA_NO_CHILD_READERS"); off && *off && std::strcmp(off, "0") != 0) return;
  const std::string pid_file = tessera::test::test_out() + "/child_pid";
  std::filesystem::remove(pid_file);
  const pid_t parent = fork();
  if (parent == 0) {  // never back into Catch2 (this copy of an MPI process must not run more tests)
    std::signal(SIGPIPE, [](int) {
      while (true) pause();
    });
    try {
      core::run_in_child(
          [&] {
            std::ofstream(pid_file) << getpid() << "\n";
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            return std::string(1 << 20, 'x');
          },
          "probe", "");
    } catch (...) {
    }
    _exit(0);
  }
  pid_t child = 0;
  for (int i = 0; i < 500 && child == 0; ++i) {
    std::ifstream in(pid_file);
    if (!(in >> child)) child = 0, std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(child > 0);
  kill(parent, SIGKILL);
  waitpid(parent, nullptr, 0);
  // Gone, or a zombie (a container's init may not reap it), within 5 s (it slept for ever before).
  auto alive = [&] {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string pid, name, state;
    return stat >> pid >> name >> state && state != "Z";
  };
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = !alive();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!gone) kill(child, SIGKILL);
  CHECK(gone);
}

TEST_CASE("run_in_child returns the child's bytes and turns its crash into an Error", "[child]") {
  CHECK(core::run_in_child([] { return std::string("a\0b", 3); }, "probe", "") == std::string("a\0b", 3));
  // A large reply (more than a pipe holds) arrives whole.
  CHECK(core::run_in_child([] { return std::string(1 << 20, 'x'); }, "probe", "").size() == size_t{1} << 20);
  CHECK_THROWS_WITH(core::run_in_child([]() -> std::string { throw Error("f.h5: bad header"); }, "probe", ""),
                    "f.h5: bad header");
  CHECK_THROWS_WITH(core::run_in_child(
                        []() -> std::string {
                          std::raise(SIGSEGV);
                          return "";
                        },
                        "f.msh: Gmsh", " while reading this file"),
                    Catch::StartsWith("f.msh: Gmsh crashed (") && Catch::EndsWith(") while reading this file"));
  CHECK_THROWS_WITH(core::run_in_child(
                        []() -> std::string {
                          std::abort();
                          return "";
                        },
                        "probe", ""),
                    Catch::StartsWith("probe crashed ("));
  // A stop request (a batch system's SIGUSR1, sent to every process of the job) does not end the
  // child: the parent acts on it (the read was reported as "crashed (signal 10, ...)").
  core::stop_on_signal(SIGUSR1);
  CHECK(core::is_stop_signal(SIGUSR1));
  CHECK_FALSE(core::is_stop_signal(SIGUSR2));
  CHECK(core::run_in_child(
            [] {
              std::raise(SIGUSR1);
              return std::string("read");
            },
            "probe", "") == "read");
  CHECK(core::stop_signal() == 0);  // the child's signal, not this process's
  // The parent is untouched: the child's state does not come back.
  int counter = 0;
  core::run_in_child(
      [&] {
        ++counter;
        return std::string();
      },
      "probe", "");
  CHECK(counter == 0);
}
