#include "solvers/petsc_session.hpp"

#include <petscsys.h>

#include "core/error.hpp"

namespace tessera::solvers {

void petsc_check(int code, const char* what) {
  if (code == 0) return;
  const char* text = nullptr;
  PetscErrorMessage(code, &text, nullptr);
  throw Error(cat("PETSc: ", what, " failed: ", text ? text : "unknown error", " (code ", code, ")"));
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
    PetscPopErrorHandler();
    PetscFinalize();
  }
}

}  // namespace tessera::solvers
