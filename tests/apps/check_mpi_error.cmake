# Under mpirun, a bad deck must be reported once (by rank 0), not by every rank, and must not
# abort the job (no MPI_ABORT banner); mpirun's own note about a non-zero exit may follow.
#   cmake -DMPIEXEC=<mpirun> -DCMD=<exe;args...> -DEXPECT=<regex> -P check_mpi_error.cmake
execute_process(COMMAND ${MPIEXEC} -n 2 --oversubscribe ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "expected a failure, got exit code 0")
endif()
string(REGEX MATCHALL "tessera-[a-z]+: error: [^\n]*" lines "${err}")
list(LENGTH lines count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "expected one error line from one rank, got ${count}:\n${err}")
endif()
if(NOT lines MATCHES "${EXPECT}")
  message(FATAL_ERROR "error does not match '${EXPECT}':\n${err}")
endif()
if(err MATCHES "MPI_ABORT")
  message(FATAL_ERROR "the job was aborted (MPI_ABORT) for a deck error:\n${err}")
endif()
message(STATUS "ok: ${lines}")
