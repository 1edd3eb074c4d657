# A run stopped by GNU timeout, which sends SIGTERM to the process and again to its process group,
# says so in one line: the two signals could reach two threads at once, and each wrote the line
# (in 2 of 4 runs of tessera-cfd's dataset job). Several runs, since that is a race.
# With -DSIGNAL=HUP the signal is SIGHUP (PETSc's handler took it from tessera-cfd's: a crash
# report and MPI_Abort); with -DOUT_DIR no unfinished file (*.tmp) may be left there; with
# -DEXPECT=<regex> the messages must match it (e.g. the note on what to go on from); with
# -DEXPECT_IF=<file> only where that file exists after the run, and must not match where it does
# not (on a loaded machine the signal may come before the run has written what the note names).
#   cmake -DTIMEOUT=<timeout> -DCMD=<exe;args...> -DSECONDS=<s> -DRUNS=<n> [-DSIGNAL=HUP] [-DOUT_DIR=<dir>]
#         [-DEXPECT=<regex> [-DEXPECT_IF=<file>]] -P check_interrupt_once.cmake
if(NOT DEFINED SIGNAL)
  set(SIGNAL TERM)
endif()
foreach(run RANGE 1 ${RUNS})
  if(DEFINED EXPECT_IF)
    file(REMOVE "${EXPECT_IF}")  # an earlier run's
  endif()
  execute_process(COMMAND ${TIMEOUT} -s ${SIGNAL} ${SECONDS} ${CMD} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 124)
    message(FATAL_ERROR "run ${run}: expected timeout's exit code 124, got ${rc}:\n${err}")
  endif()
  string(REGEX MATCHALL "interrupted by SIG${SIGNAL}" lines "${err}")
  list(LENGTH lines count)
  if(NOT count EQUAL 1 OR err MATCHES "PETSC ERROR")
    message(FATAL_ERROR "run ${run}: ${count} 'interrupted by SIG${SIGNAL}' lines, expected 1:\n${err}")
  endif()
  if(DEFINED EXPECT AND (NOT DEFINED EXPECT_IF OR EXISTS "${EXPECT_IF}"))
    if(NOT err MATCHES "${EXPECT}")
      message(FATAL_ERROR "run ${run}: the messages do not match '${EXPECT}':\n${err}")
    endif()
  elseif(DEFINED EXPECT AND err MATCHES "${EXPECT}")
    message(FATAL_ERROR "run ${run}: the messages name ${EXPECT_IF}, which is not there:\n${err}")
  endif()
  if(DEFINED OUT_DIR)
    file(GLOB_RECURSE temps "${OUT_DIR}/*.tmp")
    if(temps)
      message(FATAL_ERROR "run ${run}: unfinished files left: ${temps}")
    endif()
  endif()
endforeach()
