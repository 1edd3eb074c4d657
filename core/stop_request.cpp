#include "core/stop_request.hpp"

#include <csignal>
#include <cstdint>

#include "core/error.hpp"

namespace tessera::core {
namespace {

volatile std::sig_atomic_t received = 0;
sigset_t stop_signals;  // those stop_on_signal installed
bool any_stop_signal = false;

extern "C" void note_stop_request(int sig) { received = sig; }

}  // namespace

void stop_on_signal(int sig) {
  struct sigaction action {};
  action.sa_handler = note_stop_request;
  sigemptyset(&action.sa_mask);
  // Restarted system calls: a read or MPI wait under way goes on; the loop looks at its next step.
  action.sa_flags = SA_RESTART;
  struct sigaction previous {};
  if (::sigaction(sig, nullptr, &previous) == 0 && previous.sa_handler == SIG_IGN) return;
  if (!any_stop_signal) sigemptyset(&stop_signals), any_stop_signal = true;
  sigaddset(&stop_signals, sig);
  ::sigaction(sig, &action, nullptr);
}

bool is_stop_signal(int sig) { return any_stop_signal && sigismember(&stop_signals, sig) == 1; }

int stop_signal() { return static_cast<int>(received); }

std::string signal_name(int sig) {
  if (sig == SIGUSR1) return "SIGUSR1";
  if (sig == SIGUSR2) return "SIGUSR2";
  return cat("signal ", sig);
}

int signal_number(const std::string& name) {
  for (int sig = 1; sig < 65; ++sig)
    if (signal_name(sig) == name) return sig;
  return 0;
}

}  // namespace tessera::core
