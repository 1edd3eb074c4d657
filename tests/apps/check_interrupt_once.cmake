# A run stopped by GNU timeout, which sends SIGTERM to the process and again to its process group,
# says so in one line: the two signals could reach two threads at once, and each wrote the line
# (in 2 of 4 runs of tessera-cfd's dataset job). Several runs, since that is a race.
#   cmake -DTIMEOUT=<timeout> -DCMD=<exe;args...> -DSECONDS=<s> -DRUNS=<n> -P check_interrupt_once.cmake
foreach(run RANGE 1 ${RUNS})
  execute_process(COMMAND ${TIMEOUT} ${SECONDS} ${CMD} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 124)
    message(FATAL_ERROR "run ${run}: expected timeout's exit code 124, got ${rc}:\n${err}")
  endif()
  string(REGEX MATCHALL "interrupted by SIGTERM" lines "${err}")
  list(LENGTH lines count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "run ${run}: ${count} 'interrupted by SIGTERM' lines, expected 1:\n${err}")
  endif()
endforeach()
