#include "solvers/petsc_session.hpp"

#include <petscsys.h>

#include <exception>
#include <iostream>
#include <string>

#include "core/error.hpp"

namespace tessera::solvers {

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
    PetscFinalize();
  }
}

}  // namespace tessera::solvers
