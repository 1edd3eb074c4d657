// PetscSession: PETSc initialised for the lifetime of the object, on top of an MPI that the app
// frame already started (PETSc then leaves MPI alone at finalisation). Options are inserted
// into PETSc's options database in order, so later ones win: the deck's string first, then the
// command line's pass-through options. Nested sessions reuse the outer one.
#pragma once
#include <string>
#include <vector>

namespace tessera::solvers {

class PetscSession {
 public:
  explicit PetscSession(const std::string& deck_options = "", const std::vector<std::string>& command_line = {});
  ~PetscSession();
  PetscSession(const PetscSession&) = delete;
  PetscSession& operator=(const PetscSession&) = delete;

 private:
  bool owner_ = false;
};

// Throws tessera::Error with PETSc's message when `code` is non-zero; `what` names the call.
void petsc_check(int code, const char* what);

}  // namespace tessera::solvers
