#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/error.hpp"
#include "core/interrupt_note.hpp"
#include "core/write_all.hpp"

namespace tessera::core {

std::string temp_path(const std::string& path) { return path + ".tmp"; }

void commit_temp(const std::string& path) { commit_temp(temp_path(path), path); }

void commit_temp(const std::string& temp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (!ec) return;
  // The finished file cannot replace the target (e.g. a directory of that name): leave no
  // stray temporary behind either.
  std::error_code ignored;
  std::filesystem::remove(temp, ignored);
  const bool is_dir = std::filesystem::is_directory(path, ignored);
  throw Error(cat(path, ": cannot move the finished file into place: ",
                  is_dir ? std::string("a directory of that name is in the way") : ec.message()));
}

namespace {

// The temporaries a signal handler removes: fixed slots of fixed size, so that the handler only
// reads memory and calls async-signal-safe functions (unlink, write). A slot is claimed by
// compare-and-swap (free -> filling), filled, then published (live); the handler reads live slots.
constexpr int kSlots = 64;
constexpr size_t kSlotPath = 1024;
enum SlotState : int { kFree = 0, kFilling = 1, kLive = 2 };
std::atomic<int> slot_state[kSlots];
char slot_path[kSlots][kSlotPath];
pid_t slot_pid[kSlots];   // a forked child (the file readers) inherits the list: not its files
bool slot_quiet[kSlots];  // remove_quietly_on_interrupt's: not counted, and a folder is rmdir'ed
char interrupted_program[128];
volatile std::sig_atomic_t interrupt_quietly = 0;  // quiet_interrupts(): the run has reported its end
volatile std::sig_atomic_t interrupt_rank = 0;     // remove_temporaries_on_interrupt's rank
volatile std::sig_atomic_t interrupt_ranks = 1;    // and rank count
// set_interrupt_note: two buffers, so that the handler reads a whole note while the next is written
// into the other; -1: no note.
char interrupt_notes[2][512];
std::atomic<int> interrupt_note_index{-1};

int list_temporary(const std::string& path, bool quiet = false) {
  if (path.size() >= kSlotPath) return -1;  // not listed: left behind by a signal, as before
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!slot_state[i].compare_exchange_strong(expected, kFilling)) continue;
    std::memcpy(slot_path[i], path.c_str(), path.size() + 1);
    slot_pid[i] = ::getpid();
    slot_quiet[i] = quiet;
    slot_state[i].store(kLive);
    return i;
  }
  return -1;
}

void unlist_temporary(int slot) {
  if (slot >= 0) slot_state[slot].store(kFree);
}

// Appends `text` to buf[0, len) within `size` bytes (async-signal-safe: no allocation).
void append(char* buf, size_t& len, size_t size, const char* text) {
  const size_t n = std::min(std::strlen(text), size - 1 - len);
  std::memcpy(buf + len, text, n);
  len += n;
  buf[len] = '\0';
}

// Set by the first handler to run. A signal sent to the process and again to its group (GNU
// timeout does both) can reach two threads at once, and each wrote the line.
std::atomic_flag interrupt_handled = ATOMIC_FLAG_INIT;

extern "C" void remove_temporaries_and_die(int sig, siginfo_t* info, void*) {
  if (interrupt_handled.test_and_set()) return;  // the first handler ends the process
  const pid_t self = ::getpid();
  int removed = 0;
  for (int i = 0; i < kSlots; ++i)
    if (slot_state[i].load() == kLive && slot_pid[i] == self && !slot_quiet[i] && ::unlink(slot_path[i]) == 0)
      ++removed;
  // Then the quiet ones: lock files, and folders once empty (a few passes: a folder's slot may come
  // before the slots of what is in it).
  for (int pass = 0; pass < 4; ++pass)
    for (int i = 0; i < kSlots; ++i)
      if (slot_state[i].load() == kLive && slot_pid[i] == self && slot_quiet[i] && ::unlink(slot_path[i]) != 0)
        ::rmdir(slot_path[i]);
  // strsignal is not async-signal-safe: the three signals by name.
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  if ((!interrupt_quietly && interrupt_rank == 0) || removed > 0) {
    // One write: under mpirun the ranks' lines, written piece by piece, interleaved.
    char line[1024];
    size_t len = 0;
    line[0] = '\0';
    const int note = interrupt_note_index.load();
    // Under mpirun a signal from the parent (the launcher) is either one passed on from the user or
    // the batch system, or the launcher ending the job after another rank failed: said, since the
    // bare line read as if the job had been stopped from outside (an MPI review, 2026-12-07).
    // `info` only where this handler is still installed as ours, with SA_SIGINFO: a library that
    // puts it back with signal() (METIS's GKlib did, mesh/partition.cpp) leaves garbage there.
    struct sigaction now {};
    const bool with_info = ::sigaction(sig, nullptr, &now) == 0 && (now.sa_flags & SA_SIGINFO) != 0 &&
                           now.sa_sigaction == remove_temporaries_and_die;
    const bool from_launcher =
        interrupt_ranks > 1 && with_info && info != nullptr && info->si_pid > 0 && info->si_pid == ::getppid();
    for (const char* part : {static_cast<const char*>(interrupted_program), ": interrupted by ", name,
                             from_launcher ? " from the launcher (it also ends every rank so when one fails or is "
                                             "killed: the cause is then another rank's line or the launcher's report)"
                                           : "",
                             removed > 0 ? "; its unfinished output files were removed" : "", note >= 0 ? "; " : "",
                             note >= 0 ? static_cast<const char*>(interrupt_notes[note]) : "", "\n"})
      append(line, len, sizeof line, part);
    write_all(STDERR_FILENO, line, len);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

int remove_quietly_on_interrupt(const std::string& path) { return list_temporary(path, /*quiet=*/true); }

void unlist_on_interrupt(int handle) { unlist_temporary(handle); }

TemporaryOutput::TemporaryOutput(std::string path, bool owner) : path_(std::move(path)), owner_(owner) {
  if (owner_) slot_ = list_temporary(path_);
}

TemporaryOutput::~TemporaryOutput() {
  unlist_temporary(slot_);
  if (kept_ || !owner_) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TemporaryOutput::keep() {
  kept_ = true;
  unlist_temporary(slot_);
  slot_ = -1;
}

void quiet_interrupts() { interrupt_quietly = 1; }

void set_interrupt_note(const std::string& note) {
  if (note.empty()) {
    interrupt_note_index.store(-1);
    return;
  }
  const int next = interrupt_note_index.load() == 0 ? 1 : 0;
  const size_t n = std::min(note.size(), sizeof(interrupt_notes[next]) - 1);
  std::memcpy(interrupt_notes[next], note.data(), n);
  interrupt_notes[next][n] = '\0';
  interrupt_note_index.store(next);
}

std::string interrupt_note() {
  const int i = interrupt_note_index.load();
  return i < 0 ? std::string() : std::string(interrupt_notes[i]);
}

void remove_temporaries_on_interrupt(const std::string& program, int rank, int ranks) {
  interrupt_rank = rank;
  interrupt_ranks = ranks;
  const size_t n = std::min(program.size(), sizeof(interrupted_program) - 1);
  std::memcpy(interrupted_program, program.data(), n);
  interrupted_program[n] = '\0';
  struct sigaction action {};
  action.sa_sigaction = remove_temporaries_and_die;
  action.sa_flags = SA_SIGINFO;  // the sender's pid (from_launcher)
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction previous {};
    // A signal the caller ignores (nohup's SIGHUP) stays ignored.
    if (::sigaction(sig, nullptr, &previous) == 0 && previous.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &action, nullptr);
  }
}

void ensure_parent_dir(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(cat(dir.string(), ": cannot create output directory: ", ec.message()));
}

namespace {

// write_file's work for a text handed over in pieces.
void write_pieces(const std::string& path, const TextPieces& pieces) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw Error(cat(path, ": cannot open for writing: ", std::strerror(errno)));
  size_t size = 0;  // bytes written so far, for the message
  try {
    pieces([&](std::string_view piece) {
      if (const int err = write_all(fd, piece.data(), piece.size()); err != 0)
        throw Error(cat(path, ": writing ", size + piece.size(), " bytes failed: ", std::strerror(err)));
      size += piece.size();
    });
  } catch (...) {
    ::close(fd);
    throw;
  }
  // Network file systems may report a full disk only here.
  if (::close(fd) != 0) throw Error(cat(path, ": writing ", size, " bytes failed: ", std::strerror(errno)));
}

}  // namespace

void write_file(const std::string& path, const void* data, size_t size) {
  write_pieces(path, [&](const std::function<void(std::string_view)>& write) {
    write(std::string_view(static_cast<const char*>(data), size));
  });
}

void write_text_atomic(const std::string& path, const std::string& text) {
  ensure_parent_dir(path);
  TemporaryOutput temp(temp_path(path));
  write_file(temp.path(), text.data(), text.size());
  commit_temp(path);
  temp.keep();
}

void write_text_atomic(const std::string& path, const TextPieces& pieces) {
  ensure_parent_dir(path);
  TemporaryOutput temp(temp_path(path));
  write_pieces(temp.path(), pieces);
  commit_temp(path);
  temp.keep();
}

bool append_text(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return false;
  if (fd < 0) throw Error(cat(path, ": cannot open for appending: ", std::strerror(errno)));
  struct stat before {};
  if (::fstat(fd, &before) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(cat(path, ": cannot append: ", std::strerror(err)));
  }
  if (const int err = write_all(fd, text.data(), text.size()); err != 0) {
    (void)!::ftruncate(fd, before.st_size);  // no part of the text stays
    ::close(fd);
    throw Error(cat(path, ": appending ", text.size(), " bytes failed: ", std::strerror(err)));
  }
  // Network file systems may report a full disk only here: cut back by name.
  if (::close(fd) != 0) {
    const int err = errno;
    (void)!::truncate(path.c_str(), before.st_size);
    throw Error(cat(path, ": appending ", text.size(), " bytes failed: ", std::strerror(err)));
  }
  return true;
}

void write_shared_text_atomic(const std::string& path, const std::string& text) {
  ensure_parent_dir(path);
  TemporaryOutput temp(cat(path, ".", ::getpid(), ".tmp"));
  write_file(temp.path(), text.data(), text.size());
  commit_temp(temp.path(), path);
  temp.keep();
}

}  // namespace tessera::core
