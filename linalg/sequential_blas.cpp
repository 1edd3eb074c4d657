#include "linalg/sequential_blas.hpp"

#include <dlfcn.h>

namespace tessera::linalg {

namespace {

// MKL's C entry point (mkl_service.h's mkl_set_num_threads_local is a macro for it; the lower-case
// symbol is the Fortran one, which takes a pointer). Looked up at run time: the libtorch in use may
// have no MKL.
using SetLocalThreads = int (*)(int);
SetLocalThreads mkl_set_local_threads() {
  static const auto f = reinterpret_cast<SetLocalThreads>(dlsym(RTLD_DEFAULT, "MKL_Set_Num_Threads_Local"));
  return f;
}

}  // namespace

SequentialBlas::SequentialBlas() {
  if (const SetLocalThreads f = mkl_set_local_threads()) previous_ = f(1);
}

SequentialBlas::~SequentialBlas() {
  if (const SetLocalThreads f = mkl_set_local_threads()) f(previous_);
}

}  // namespace tessera::linalg
