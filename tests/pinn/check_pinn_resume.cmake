# A PINN study interrupted after STOP steps and run again with the same deck (each case resumes from
# its own checkpoint) gives the same error table as an uninterrupted run: every column but the wall
# time equal to the last digit.
#   cmake -DAPP=<tessera-train> -DDECK=<deck> -DARGS=<--set;...> -DSTOP=<n> -DOUT=<dir> -P check_pinn_resume.cmake
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${APP} ${DECK} ${ARGS} --set output.dir=${OUT}/straight RESULT_VARIABLE rc1 ERROR_VARIABLE e1)
execute_process(COMMAND ${APP} ${DECK} ${ARGS} --set train.steps=${STOP} --set output.dir=${OUT}/resumed
                RESULT_VARIABLE rc2 ERROR_VARIABLE e2)
execute_process(COMMAND ${APP} ${DECK} ${ARGS} --set output.dir=${OUT}/resumed RESULT_VARIABLE rc3
                OUTPUT_VARIABLE log ERROR_VARIABLE e3)
if(NOT (rc1 EQUAL 0 AND rc2 EQUAL 0 AND rc3 EQUAL 0))
  message(FATAL_ERROR "a run failed: ${rc1} ${rc2} ${rc3}\n${e1}${e2}${e3}")
endif()
if(NOT log MATCHES "resumed [^\n]* at step ${STOP}")
  message(FATAL_ERROR "the second run did not resume at step ${STOP}:\n${log}")
endif()
file(READ ${OUT}/straight/errors.csv a)
file(READ ${OUT}/resumed/errors.csv b)
# Drop the last column (seconds).
string(REGEX REPLACE ",[^,\n]*\n" "\n" a "${a}")
string(REGEX REPLACE ",[^,\n]*\n" "\n" b "${b}")
if(NOT a STREQUAL b)
  message(FATAL_ERROR "resumed and uninterrupted studies differ:\n${a}\nvs\n${b}")
endif()
message(STATUS "identical:\n${a}")
