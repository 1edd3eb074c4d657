// A request to stop at the next safe point: a batch system's warning before its time limit
// (Slurm's --signal=USR1@<seconds>, or `scancel --signal=USR1`). Training finishes its step,
// writes its checkpoint (no validation off the schedule, which a resume would not repeat) and
// stops; the app then exits 128 + the signal, with one line naming the checkpoint to resume from. Before, SIGUSR1
// killed the run, and everything since its last checkpoint was lost. Apps with no safe point to stop at (tessera-cfd,
// tessera-rollout) ignore it and run on (a batch system's SIGTERM still ends them).
#pragma once
#include <stdexcept>
#include <string>

namespace tessera::core {

// Installs the handler (run_app, for SIGUSR1). A signal the caller ignores stays ignored.
void stop_on_signal(int sig);

// The signal this process received (0 if none). Under MPI the ranks agree on it with an
// allreduce (max) at the same point of their loop, so that all stop together (train/loop.cpp).
int stop_signal();

// Whether stop_on_signal installed the handler for `sig`. A reader's child (core/child_process.hpp)
// ignores such a signal: mpirun and batch systems send it to every process of the job, and it
// killed the child, which read as the file crashing its reader.
bool is_stop_signal(int sig);

// "SIGUSR1", "SIGUSR2", else "signal N"; and back (0 for a name it does not know).
std::string signal_name(int sig);
int signal_number(const std::string& name);

// Thrown once the stop is done (the checkpoint written): run_app prints "<app>: stopped by
// SIGUSR1: <message>" and exits 128 + signal.
class StoppedBySignal : public std::runtime_error {
 public:
  StoppedBySignal(int sig, const std::string& message) : std::runtime_error(message), signal_(sig) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace tessera::core
