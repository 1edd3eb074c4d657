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
    --set output.every=15 --set output.restart_every=10 --set output.vtu=true)
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
# The field series index the whole run: the first run's outputs before the restart (t = 0 and
# 0.075), where they are, then the continuation's own: the restart's state, t = 0.15 and the end.
# The .xmf's velocity files and the .pvd's pieces, in the order of their times.
function(series dir name out)
  file(READ ${dir}/${name}.xmf xmf)
  string(REGEX MATCHALL "Time Value=\"[^\"]*\"|>[^<>]*:/velocity<" xmf_items "${xmf}")
  file(READ ${dir}/${name}.pvd pvd)
  string(REGEX MATCHALL "timestep=\"[^\"]*\"|file=\"[^\"]*\"" pvd_items "${pvd}")
  set(${out} "${xmf_items} | ${pvd_items}" PARENT_SCOPE)
endfunction()
series(${OUT}/continued dfg-2d2 continued_series)
set(expected "Time Value=\"0\";>../first/dfg-2d2_000000.h5:/velocity<;Time Value=\"0.075\";\
>../first/dfg-2d2_000001.h5:/velocity<;Time Value=\"0.1\";>dfg-2d2_000000.h5:/velocity<;Time Value=\"0.15\";\
>dfg-2d2_000001.h5:/velocity<;Time Value=\"0.2\";>dfg-2d2_000002.h5:/velocity< | \
timestep=\"0\";file=\"../first/dfg-2d2_0.vtu\";timestep=\"0.075\";file=\"../first/dfg-2d2_1.vtu\";\
timestep=\"0.1\";file=\"dfg-2d2_0.vtu\";timestep=\"0.15\";file=\"dfg-2d2_1.vtu\";timestep=\"0.2\";\
file=\"dfg-2d2_2.vtu\"")
if(NOT continued_series STREQUAL expected)
  message(FATAL_ERROR "the continuation's field series are not the first run's outputs before t = 0.1 and its own:\n"
                      "${continued_series}\nexpected\n${expected}")
endif()
if(NOT log3 MATCHES "the field series start with the 2 outputs before the restart \\(t = 0 to 0.075\\) in [^\n]*\
first, referred to where they are\n")
  message(FATAL_ERROR "the continuation did not say that its series start with the earlier outputs:\n${log3}")
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

# A continuation of the continuation indexes all three runs' outputs; a field file of the first run
# removed since is left out, with a note (readers stop at a missing file). A continuation that
# would write over the first run's outputs, to which its series refer, is refused.
set(again ${common} --set time.initial=restart --set time.restart_file=${OUT}/continued/dfg-2d2_restart.h5
    --set time.end=0.25)
execute_process(COMMAND ${APP} ${again} --set output.dir=${OUT}/first RESULT_VARIABLE rc8 OUTPUT_VARIABLE log8
                ERROR_VARIABLE log8)
if(rc8 EQUAL 0 OR NOT log8 MATCHES "output.name: [^\n]*first/dfg-2d2 holds fields of the run [^\n]* continues")
  message(FATAL_ERROR "a continuation writing over the outputs its series refer to was not refused (${rc8}):\n${log8}")
endif()
# The same through a link to the continuation's folder one level down: the file's segments
# ("../first/dfg-2d2") are resolved through the link, not folded as text (sub/first).
file(MAKE_DIRECTORY ${OUT}/sub)
file(CREATE_LINK ${OUT}/continued ${OUT}/sub/lnk SYMBOLIC)
execute_process(COMMAND ${APP} ${again} --set time.restart_file=${OUT}/sub/lnk/dfg-2d2_restart.h5
                        --set output.dir=${OUT}/first RESULT_VARIABLE rc10 OUTPUT_VARIABLE log10 ERROR_VARIABLE log10)
if(rc10 EQUAL 0 OR NOT log10 MATCHES "output.name: [^\n]*first/dfg-2d2 holds fields of the run")
  message(FATAL_ERROR "a continuation through a link writing over the outputs its series refer to was not refused "
                      "(${rc10}):\n${log10}")
endif()
file(REMOVE ${OUT}/first/dfg-2d2_000000.h5)
execute_process(COMMAND ${APP} ${again} --set output.dir=${OUT}/third RESULT_VARIABLE rc9 OUTPUT_VARIABLE log9
                ERROR_VARIABLE log9)
series(${OUT}/third dfg-2d2 third_series)
set(expected "Time Value=\"0.075\";>../first/dfg-2d2_000001.h5:/velocity<;Time Value=\"0.1\";\
>../continued/dfg-2d2_000000.h5:/velocity<;Time Value=\"0.15\";>../continued/dfg-2d2_000001.h5:/velocity<;\
Time Value=\"0.2\";>dfg-2d2_000000.h5:/velocity<;Time Value=\"0.225\";>dfg-2d2_000001.h5:/velocity<;\
Time Value=\"0.25\";>dfg-2d2_000002.h5:/velocity< | \
timestep=\"0\";file=\"../first/dfg-2d2_0.vtu\";timestep=\"0.075\";file=\"../first/dfg-2d2_1.vtu\";\
timestep=\"0.1\";file=\"../continued/dfg-2d2_0.vtu\";timestep=\"0.15\";file=\"../continued/dfg-2d2_1.vtu\";\
timestep=\"0.2\";file=\"dfg-2d2_0.vtu\";timestep=\"0.225\";file=\"dfg-2d2_1.vtu\";timestep=\"0.25\";\
file=\"dfg-2d2_2.vtu\"")
if(NOT rc9 EQUAL 0 OR NOT third_series STREQUAL expected OR NOT log9 MATCHES "the field series start with the 4 \
outputs before the restart \\(t = 0 to 0.15\\) in [^\n]*first, [^\n]*continued, referred to where they are; not \
found and left out \\(moved, removed, or not written in that format\\): 1 .h5, 0 .vtu\n")
  message(FATAL_ERROR "the second continuation's series are not the three runs' outputs less the removed one (${rc9}):"
                      "\n${third_series}\nexpected\n${expected}\n${log9}")
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
  # Its series index the first run's outputs too (rank 0 writes them; the first run's t = 0 .h5 was
  # removed above).
  series(${OUT}/np2 dfg-2d2 np2_series)
  set(expected "Time Value=\"0.075\";>../first/dfg-2d2_000001.h5:/velocity<;Time Value=\"0.1\";\
>dfg-2d2_000000.h5:/velocity<;Time Value=\"0.15\";>dfg-2d2_000001.h5:/velocity<;Time Value=\"0.2\";\
>dfg-2d2_000002.h5:/velocity< | timestep=\"0\";file=\"../first/dfg-2d2_0.vtu\";timestep=\"0.075\";\
file=\"../first/dfg-2d2_1.vtu\";timestep=\"0.1\";file=\"dfg-2d2_0.vtu\";timestep=\"0.15\";file=\"dfg-2d2_1.vtu\";\
timestep=\"0.2\";file=\"dfg-2d2_2.vtu\"")
  if(NOT np2_series STREQUAL expected)
    message(FATAL_ERROR "the 2-rank continuation's series are not the first run's and its own:\n${np2_series}\n"
                        "expected\n${expected}")
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
