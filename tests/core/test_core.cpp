// core: errors carrying a key, Comm on one rank, provenance, atomic files and interrupts, thread
// counts, input files, reading children. (Progress: test_progress.cpp; output claims:
// test_output_claim.cpp.)
#include <fcntl.h>
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
#include <optional>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/build_info.hpp"
#include "core/child_process.hpp"
#include "core/comm.hpp"
#include "core/cores.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/interrupt_note.hpp"
#include "core/kept_signal_dispositions.hpp"
#include "core/log.hpp"
#include "core/memory.hpp"
#include "core/output_claim.hpp"
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

// Waits for `child` to end by a signal, then returns the first message on `socket`, the
// sequenced-packet socket its stderr went to (each write a message of its own: the first message
// read is the first write); closes the socket.
std::string first_message_of_signalled_child(pid_t child, int socket) {
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  char buf[1024];
  const ssize_t n = ::recv(socket, buf, sizeof buf, 0);
  ::close(socket);
  REQUIRE(n >= 0);  // 0: the child wrote nothing before it ended
  return std::string(buf, static_cast<size_t>(n));
}

// The first write on stderr of a child that runs `setup` as an app would, then gets SIGTERM.
std::string interrupt_message(const std::function<void()>& setup, int rank = 0, int ranks = 1) {
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) == 0);
  std::fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pair[0]);
    ::dup2(pair[1], STDERR_FILENO);
    core::remove_temporaries_on_interrupt("tessera-test", rank, ranks);
    setup();
    ::raise(SIGTERM);
    _exit(0);  // not reached
  }
  ::close(pair[1]);
  return first_message_of_signalled_child(child, pair[0]);
}

// The first write on stderr of a child that installs the handlers as rank 0 of `ranks` and is
// then sent SIGTERM by its parent (this process), as mpirun sends it.
// `reinstalled_with_signal`: the handler is then put back as METIS's GKlib does, inside a
// core::KeptSignalDispositions where `kept`.
std::string message_of_signal_from_parent(int ranks, bool reinstalled_with_signal = false, bool kept = false) {
  int pair[2], ready[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) == 0);
  REQUIRE(::pipe(ready) == 0);
  std::fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pair[0]);
    ::close(ready[0]);
    ::dup2(pair[1], STDERR_FILENO);
    ::signal(SIGTERM, SIG_DFL);  // a runner that ignores SIGTERM would leave the handlers out
    ::alarm(20);                 // and a child that is never signalled ends anyway
    core::remove_temporaries_on_interrupt("tessera-test", 0, ranks);
    if (reinstalled_with_signal) {  // as METIS's GKlib puts a previous handler back
      std::optional<core::KeptSignalDispositions> keep;
      if (kept) keep.emplace();
      struct sigaction now {};
      ::sigaction(SIGTERM, nullptr, &now);
      ::signal(SIGTERM, now.sa_handler);  // the same pointer (a union with sa_sigaction)
    }
    const char go = 'r';
    (void)!::write(ready[1], &go, 1);
    for (;;) ::pause();
  }
  ::close(pair[1]);
  ::close(ready[1]);
  char go = 0;
  REQUIRE(::read(ready[0], &go, 1) == 1);
  ::close(ready[0]);
  REQUIRE(::kill(child, SIGTERM) == 0);
  return first_message_of_signalled_child(child, pair[0]);
}

TEST_CASE("under mpirun a signal from the launcher is said to be the launcher's", "[atomic]") {
  // mpirun ends every rank with SIGTERM when one rank fails alone: rank 0's bare line read as if
  // the job had been stopped from outside, below the failing rank's error.
  CHECK(message_of_signal_from_parent(2) ==
        "tessera-test: interrupted by SIGTERM from the launcher (it also ends every rank so when one fails or is "
        "killed: the cause is then another rank's line or the launcher's report)\n");
  CHECK(message_of_signal_from_parent(1) == "tessera-test: interrupted by SIGTERM\n");  // one process: as before
  // Put back with signal() (no SA_SIGINFO), the handler has no sender to read: the bare line.
  CHECK(message_of_signal_from_parent(2, true) == "tessera-test: interrupted by SIGTERM\n");
  // Unless the call that did so was inside a core::KeptSignalDispositions (METIS in partitioning
  // and in a MUMPS built with it).
  CHECK(message_of_signal_from_parent(2, true, true).find("from the launcher") != std::string::npos);
  // A signal the rank sends itself (or the kernel's, Ctrl-C's) is not the launcher's.
  CHECK(interrupt_message([] {}, 0, 2) == "tessera-test: interrupted by SIGTERM\n");
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
