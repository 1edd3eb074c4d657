# tessera-cfd's restart (time.initial: restart) against the run it continues, on a coarse DFG 2D-2
# mesh with direct solves (solver.refactor_every 1). A run to t = 0.1 writes <name>_restart.h5
# (output.restart_every 10: steps 10 and 20); a run from it to t = 0.2 must reproduce the
# uninterrupted run's forces table digit for digit, step numbers included: rows 1 to 20 carried by
# the restart file, 21 to 40 computed; and its summary (maxima over the whole run), and write its
# fields at the uninterrupted run's steps (output.every 15 counts from t = 0: the restart's state,
# then t = 0.15 and the end). With MPIEXEC the
# continuation also runs on 2 ranks from the 1-rank file: the rank-count-free state gives the same
# table to 5 decimals (the solves differ in round-off only), and ranks given different states stop.
file(REMOVE_RECURSE ${OUT})
set(common ${DECK} --set mesh.cylinder.h_near=0.01 --set solver.refactor_every=1 --set analysis.start=0
    --set output.every=15 --set output.restart_every=10)
execute_process(COMMAND ${APP} ${common} --set time.end=0.1 --set output.dir=${OUT}/first RESULT_VARIABLE rc1
                OUTPUT_VARIABLE log1 ERROR_VARIABLE log1)
execute_process(COMMAND ${APP} ${common} --set time.end=0.2 --set output.dir=${OUT}/whole RESULT_VARIABLE rc2
                OUTPUT_VARIABLE log2 ERROR_VARIABLE log2)
set(restart --set time.initial=restart --set time.restart_file=${OUT}/first/dfg-2d2_restart.h5 --set time.end=0.2)
execute_process(COMMAND ${APP} ${common} ${restart} --set output.dir=${OUT}/continued RESULT_VARIABLE rc3
                OUTPUT_VARIABLE log3 ERROR_VARIABLE log3)
if(NOT (rc1 EQUAL 0 AND rc2 EQUAL 0 AND rc3 EQUAL 0))
  message(FATAL_ERROR "a run failed: ${rc1} ${rc2} ${rc3}\n${log1}\n${log2}\n${log3}")
endif()
if(NOT log3 MATCHES "restart: t = 0.1 after 20 steps from [^\n]*first/dfg-2d2_restart.h5")
  message(FATAL_ERROR "the continuation did not report its restart:\n${log3}")
endif()
if(NOT log3 MATCHES "t in \\[0, 0.2\\]")
  message(FATAL_ERROR "the continuation's analysis window does not cover the run it continues:\n${log3}")
endif()
file(READ ${OUT}/continued/dfg-2d2.xmf xmf)
string(REGEX MATCHALL "Time Value=\"[^\"]*\"" times "${xmf}")
if(NOT times STREQUAL "Time Value=\"0.1\";Time Value=\"0.15\";Time Value=\"0.2\"")
  message(FATAL_ERROR "the continuation's field times are not 0.1 (its start), 0.15 and 0.2: ${times}")
endif()

# Lines [first, first + count) of a forces table without the two last columns (linear iterations,
# seconds); with `decimals` given, each number cut after that many digits past its point.
function(rows file first count out)
  file(STRINGS ${file} lines)
  list(SUBLIST lines ${first} ${count} lines)
  set(kept "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE ",[^,]*,[^,]*$" "" line "${line}")
    if(ARGC GREATER 4)
      string(REPEAT "[0-9]" ${ARGV4} digits)  # CMake's regular expressions have no {n}
      string(REGEX REPLACE "([0-9]\\.${digits})[0-9]*" "\\1" line "${line}")
    endif()
    list(APPEND kept "${line}")
  endforeach()
  set(${out} "${kept}" PARENT_SCOPE)
endfunction()
rows(${OUT}/whole/dfg-2d2_forces.csv 1 40 whole)
rows(${OUT}/continued/dfg-2d2_forces.csv 1 40 continued)
file(STRINGS ${OUT}/continued/dfg-2d2_forces.csv all)
list(LENGTH all n)
if(NOT n EQUAL 41)
  message(FATAL_ERROR "continued/dfg-2d2_forces.csv has ${n} lines, not a header and steps 1 to 40")
endif()
if(NOT whole STREQUAL continued)
  message(FATAL_ERROR "the continuation's forces differ from the uninterrupted run's:\n${whole}\n---\n${continued}")
endif()
# The summary's values over the whole run (not its step count, seconds or iterations: this run's).
function(summary file out)
  file(STRINGS ${file} lines REGEX "^(c_d_max|c_l_max|strouhal|delta_p|dofs|cells),")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()
summary(${OUT}/whole/dfg-2d2_summary.csv whole_summary)
summary(${OUT}/continued/dfg-2d2_summary.csv continued_summary)
list(LENGTH whole_summary n)
if(NOT n EQUAL 6 OR NOT whole_summary STREQUAL continued_summary)
  message(FATAL_ERROR "the continuation's summary differs from the uninterrupted run's:\n${whole_summary}\n---\n"
                      "${continued_summary}")
endif()

# A continuation on another basis (forces.reference_velocity: the coefficients' scale) does not
# carry the earlier rows, whose values would mix two scales in one table and its maxima: it says so
# and starts its table and analysis at the restart.
execute_process(COMMAND ${APP} ${common} ${restart} --set forces.reference_velocity=2 --set output.dir=${OUT}/rescaled
                RESULT_VARIABLE rc7 OUTPUT_VARIABLE log7 ERROR_VARIABLE log7)
file(STRINGS ${OUT}/rescaled/dfg-2d2_forces.csv rescaled)
list(LENGTH rescaled n)
if(NOT rc7 EQUAL 0 OR NOT n EQUAL 21 OR NOT log7 MATCHES "its forces table is not carried: its values are on another \
basis [^\n]*; this run's table and analysis start at t = 0.1\n" OR NOT log7 MATCHES "t in \\[0.1, 0.2\\]")
  message(FATAL_ERROR "a continuation on another basis carried the earlier rows, or did not say (${rc7}, ${n} "
                      "lines):\n${log7}")
endif()

# A failure outside a time step (here the restart file at step 30, over a 200 KB file-size limit;
# the mesh file, 139 KB, fits) names the state to go on from, as a failed step does: the file this
# continuation started from; and the forces table keeps the steps done (rows 1 to 30). PMIx needs
# its "hash" store under such a limit.
set(ENV{PMIX_MCA_gds} hash)
execute_process(COMMAND /bin/sh -c "ulimit -f 400 && exec \"$0\" \"$@\"" ${APP} ${common} ${restart}
                        --set output.every=0 --set output.dir=${OUT}/full_disk
                RESULT_VARIABLE rc6 OUTPUT_VARIABLE log6 ERROR_VARIABLE log6)
if(rc6 EQUAL 0 OR NOT log6 MATCHES "full_disk/dfg-2d2_restart.h5.tmp: writing [0-9]+ bytes failed: File too large; the \
state at t = 0.1 is in [^\n]*first/dfg-2d2_restart.h5 \\(to go on: time.initial: restart\\)\n")
  message(FATAL_ERROR "a restart file that could not be written did not name the state to go on from (${rc6}):\n${log6}")
endif()
rows(${OUT}/whole/dfg-2d2_forces.csv 1 30 whole30)
rows(${OUT}/full_disk/dfg-2d2_forces.csv 1 30 full30)
if(NOT whole30 STREQUAL full30)
  message(FATAL_ERROR "the stopped continuation's forces table is not the first 30 steps:\n${full30}")
endif()

if(MPIEXEC)
  execute_process(COMMAND ${MPIEXEC} -n 2 --oversubscribe ${APP} ${common} ${restart} --set output.dir=${OUT}/np2
                  RESULT_VARIABLE rc4 OUTPUT_VARIABLE log4 ERROR_VARIABLE log4)
  if(NOT rc4 EQUAL 0)
    message(FATAL_ERROR "the 2-rank continuation failed: ${rc4}\n${log4}")
  endif()
  rows(${OUT}/whole/dfg-2d2_forces.csv 1 40 whole5 5)
  rows(${OUT}/np2/dfg-2d2_forces.csv 1 40 np2 5)
  if(NOT whole5 STREQUAL np2)
    message(FATAL_ERROR "the 2-rank continuation's forces differ from the uninterrupted run's:\n${whole5}\n---\n${np2}")
  endif()
  # Ranks that read different states (node-local copies: here the 1-rank and the 2-rank state at
  # t = 0.2, which differ in round-off) stop with one error at time.restart_file.
  set(other ${common} --set time.initial=restart --set time.end=0.25 --set output.dir=${OUT}/mixed)
  execute_process(COMMAND ${MPIEXEC} -n 1 ${APP} ${other} --set time.restart_file=${OUT}/whole/dfg-2d2_restart.h5 :
                          -n 1 ${APP} ${other} --set time.restart_file=${OUT}/np2/dfg-2d2_restart.h5
                  RESULT_VARIABLE rc5 OUTPUT_VARIABLE log5 ERROR_VARIABLE log5)
  if(rc5 EQUAL 0 OR NOT log5 MATCHES "time.restart_file: [^\n]*the ranks read different states from it")
    message(FATAL_ERROR "ranks reading different restart states were not stopped (${rc5}):\n${log5}")
  endif()
endif()
