// One Catch2 main for every test program: brings MPI up and down in MPI builds, so the same
// test binaries run under mpiexec.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tessera/config.hpp"
#if TESSERA_HAVE_MPI
#include <mpi.h>
#endif

int main(int argc, char** argv) {
#if TESSERA_HAVE_MPI
  MPI_Init(&argc, &argv);
#endif
  const int rc = Catch::Session().run(argc, argv);
#if TESSERA_HAVE_MPI
  // A failure on one rank must not leave the others waiting in a collective.
  int any = 0;
  MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any;
#else
  return rc;
#endif
}
