// PetscSession: PETSc initialised for the lifetime of the object, on top of an MPI that the app
// frame already started (PETSc then leaves MPI alone at finalisation). Options are inserted
// into PETSc's options database in order, so later ones win: the deck's string first, then the
// command line's pass-through options. Nested sessions reuse the outer one.
#pragma once
#include <algorithm>
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

// What is wrong with a PETSc options string ("" when nothing): each value must follow an option
// ("-name"). PETSc ignores a word that follows none without a word ("pc_factor_mat_solver_type
// umfpack", its dash forgotten, left MUMPS in place; a review found it, 2026-12-07).
inline std::string petsc_options_problem(const std::string& options) {
  bool after_option = false;
  size_t at = 0;
  while (true) {
    const size_t begin = options.find_first_not_of(" \t\n", at);
    if (begin == std::string::npos) return "";
    const size_t end = std::min(options.find_first_of(" \t\n", begin), options.size());
    const std::string word = options.substr(begin, end - begin);
    const bool option = word.size() > 1 && word[0] == '-';
    if (!option && !after_option)
      return "'" + word + "' follows no option: PETSc options are -name or -name value (a forgotten dash?)";
    after_option = option;
    at = end;
  }
}

// Throws tessera::Error with PETSc's message when `code` is non-zero; `what` names the call.
void petsc_check(int code, const char* what);

}  // namespace tessera::solvers
