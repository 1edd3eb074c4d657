#include "core/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "core/stop_request.hpp"
#include "core/write_all.hpp"

// Present only in sanitizer builds (the fuzz targets): weak, so other builds link without it.
extern "C" void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

namespace tessera::core {
namespace {

constexpr int kSanitizerStatus = 86;  // the child's exit status after a sanitizer report

[[noreturn]] void die_quietly() { _exit(kSanitizerStatus); }

// Writes all of `data` to fd (the child's answer); a failed write ends the child.
void send_all(int fd, const std::string& data) {
  if (write_all(fd, data.data(), data.size()) != 0) _exit(kSanitizerStatus + 1);
}

// In the child: every handler the parent installed back to the default action, and the child ends
// with its parent. The crash handlers a fuzzer or sanitizer installed would record the child's
// crash as the parent's (it is only a result to report); PETSc's, on the SIGPIPE of a child whose
// parent had gone, called MPI_Abort, which slept for ever in the orphan, holding the parent's open
// output files (the next run could not create them); tessera's interrupt handler would remove the
// parent's temporaries. Signals the parent ignores stay ignored (as across exec): under nohup a
// hangup must not end the child while the parent goes on. A stop request (SIGUSR1,
// core/stop_request.hpp) is ignored too: the job's launcher sends it to every process, the
// parent acts on it, and it killed the child, which read as the file crashing its reader. PR_SET_PDEATHSIG fires when
// the forking thread ends: callers fork from the thread that waits for the child.
void child_defaults(pid_t parent) {
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction now {};
    if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, nullptr, &now) != 0) continue;
    if (!(now.sa_flags & SA_SIGINFO) && now.sa_handler == SIG_IGN) continue;
    signal(sig, is_stop_signal(sig) ? SIG_IGN : SIG_DFL);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kSanitizerStatus + 1);  // the parent went before prctl took effect
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(die_quietly);
  // A crashing library's own messages (and a sanitizer's report) would break the one-line error.
  if (const int null = open("/dev/null", O_WRONLY); null >= 0) {
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
}

std::string ended(int status) {
  if (WIFSIGNALED(status)) return cat("signal ", WTERMSIG(status), ", ", strsignal(WTERMSIG(status)));
  if (WIFEXITED(status) && WEXITSTATUS(status) == kSanitizerStatus) return "a memory error found by the sanitizer";
  return cat("exit status ", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

}  // namespace

std::string run_in_child(const std::function<std::string()>& work, const std::string& what, const std::string& advice) {
  const char* off = std::getenv("TESSERA_NO_CHILD_READERS");
  int fds[2];
  if ((off && std::strcmp(off, "0") != 0 && *off) || pipe(fds) != 0) return work();
  const pid_t parent = getpid(), pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return work();
  }
  if (pid == 0) {
    close(fds[0]);
    child_defaults(parent);
    std::string reply(1, 'R');
    try {
      reply += work();
    } catch (const std::exception& e) {
      reply = std::string("E") + e.what();
    } catch (...) {
      reply = "Ean exception of unknown type";
    }
    send_all(fds[1], reply);
    _exit(0);
  }
  close(fds[1]);
  std::string reply;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty())
    throw Error(cat(what, " crashed (", ended(status), ")", advice));
  // An empty message comes from a child whose heap the library had already corrupted (Gmsh's
  // double free on a damaged file did this, now and then, under load): as good as a crash.
  if (reply == "E") throw Error(cat(what, " failed without a message", advice));
  if (reply[0] == 'E') throw Error(reply.substr(1));
  return reply.substr(1);
}

}  // namespace tessera::core
