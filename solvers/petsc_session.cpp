#include "solvers/petsc_session.hpp"

#include <petscsys.h>
#include <signal.h>

#include <array>
#include <exception>
#include <iostream>
#include <string>

#include "core/error.hpp"

namespace tessera::solvers {
namespace {

// Every catchable signal's disposition, kept across PETSc's initialisation and finalisation:
// PETSc installs its own handler for SIGHUP and others (a SIGHUP to tessera-cfd printed "PETSC
// ERROR: Caught signal number 1", called MPI_Abort and left its .tmp files), and PetscFinalize
// reset SIGTERM and SIGHUP to the default action, so a later SIGTERM killed without cleaning up.
// tessera's handlers (core/atomic_file.hpp) are the run's.
class KeptSignals {
 public:
  KeptSignals() {
    for (int s = 1; s < NSIG && s < int(kept_.size()); ++s) have_[s] = sigaction(s, nullptr, &kept_[s]) == 0;
  }
  ~KeptSignals() {
    for (int s = 1; s < NSIG && s < int(kept_.size()); ++s)
      if (have_[s] && s != SIGKILL && s != SIGSTOP) sigaction(s, &kept_[s], nullptr);
  }

 private:
  std::array<struct sigaction, 65> kept_{};
  std::array<bool, 65> have_{};
};

}  // namespace

void petsc_check(int code, const char* what) {
  if (code == 0) return;
  const char* text = nullptr;
  PetscErrorMessage(code, &text, nullptr);
  // Reading the options is where a misspelled type or a bad value surfaces: say where they came from.
  const bool options = std::string(what).find("SetFromOptions") != std::string::npos;
  throw Error(
      cat("PETSc: ", what, " failed: ", text ? text : "unknown error", " (code ", code, ")",
          options ? "; check the PETSc options (solver.petsc_options in the deck, -options on the command line)" : ""));
}

PetscSession::PetscSession(const std::string& deck_options, const std::vector<std::string>& command_line) {
  PetscBool initialized = PETSC_FALSE;
  PetscInitialized(&initialized);
  if (!initialized) {
    const KeptSignals keep;
    // PETSc's own signal handler off (it would replace tessera's; KeptSignals restores them
    // where an option set this early is not read).
    PetscOptionsSetValue(nullptr, "-no_signal_handler", nullptr);
    petsc_check(PetscInitializeNoArguments(), "PetscInitialize");
    owner_ = true;
    // Errors come back as codes turned into one-line tessera::Error messages, not tracebacks.
    PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
  }
  if (!deck_options.empty()) petsc_check(PetscOptionsInsertString(nullptr, deck_options.c_str()), "inserting options");
  std::string line;
  for (const auto& o : command_line) line += o + " ";
  if (!line.empty()) petsc_check(PetscOptionsInsertString(nullptr, line.c_str()), "inserting command-line options");
}

PetscSession::~PetscSession() {
  if (owner_) {
    // Options nobody asked for are most often misspelled ones (PETSc would otherwise drop them
    // silently): said once, by rank 0, after a run that finished.
    PetscInt left = 0;
    char** names = nullptr;
    char** values = nullptr;
    if (std::uncaught_exceptions() == 0 && PetscGlobalRank == 0 &&
        PetscOptionsLeftGet(nullptr, &left, &names, &values) == 0) {
      std::string unused;
      for (PetscInt i = 0; i < left; ++i)
        unused += cat(i ? ", " : "", "-", names[i], values[i] ? cat(" ", values[i]) : "");
      if (left > 0)
        std::cerr << "warning: PETSc options that nothing used (misspelled, or for a solver this run does not "
                     "create): "
                  << unused << "\n";
      PetscOptionsLeftRestore(nullptr, &left, &names, &values);
    }
    PetscPopErrorHandler();
    const KeptSignals keep;
    PetscFinalize();
  }
}

}  // namespace tessera::solvers
