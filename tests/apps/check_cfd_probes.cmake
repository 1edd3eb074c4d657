# output.probes: u, v, p at points as columns of the forces table. A steady DFG 2D-1 run (coarse)
# probes the inflow's peak (0, 0.205), where the velocity is the imposed U_m = 0.3 exactly, and a
# point in the wake; a transient continuation from its restart file probes the wake point and a
# new one: the carried row keeps the wake point's values, with nan for the new one, and a warning
# names both; the summary says where the probes are; a continuation without output.probes keeps
# the restart file's.
#   cmake -DAPP=<tessera-cfd> -DDECK=<dfg-2d1.yaml> -DOUT=<dir> -P check_cfd_probes.cmake
file(REMOVE_RECURSE ${OUT})
set(common ${DECK} --set mesh.cylinder.h_near=0.02 --set mesh.cylinder.h_far=0.06)
execute_process(COMMAND ${APP} ${common} "--set" "output.probes=[0, 0.205, 0.5, 0.2]" --set output.dir=${OUT}/steady
                RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the steady run failed (${rc}):\n${log}")
endif()
file(STRINGS ${OUT}/steady/dfg-2d1_forces.csv lines)
list(GET lines 0 header)
list(GET lines 1 row)
if(NOT header STREQUAL "step,time,c_d,c_l,delta_p,linear_iterations,seconds,u_1,v_1,p_1,u_2,v_2,p_2")
  message(FATAL_ERROR "the forces table's header has no probe columns: ${header}")
endif()
if(NOT row MATCHES "^0,0,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,0.3,0,")
  message(FATAL_ERROR "the velocity at the inflow's peak is not (0.3, 0): ${row}")
endif()
string(REGEX MATCH ",([^,]*,[^,]*,[^,]*)$" wake "${row}")
set(wake ${CMAKE_MATCH_1})

execute_process(COMMAND ${APP} ${common} "--set" "output.probes=[0.5, 0.2, 1.0, 0.2]" --set time.mode=transient
                        --set time.initial=restart --set time.restart_file=${OUT}/steady/dfg-2d1_restart.h5
                        --set time.dt=0.01 --set time.end=0.02 --set output.dir=${OUT}/continued
                RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the continuation failed (${rc}):\n${log}")
endif()
if(NOT log MATCHES "warning: output.probes differ from those of the run that wrote [^\n]*steady/dfg-2d1_restart.h5: \
new \\(1, 0.2\\) \\(nan before t = 0\\); left out \\(0, 0.205\\)\n")
  message(FATAL_ERROR "no warning about the probes the runs do not share:\n${log}")
endif()
file(STRINGS ${OUT}/continued/dfg-2d1_forces.csv lines)
list(LENGTH lines n)
list(GET lines 1 carried)
if(NOT n EQUAL 4 OR NOT carried MATCHES ",${wake},nan,nan,nan$")
  message(FATAL_ERROR "the carried row does not keep the wake point's values (${wake}) with nan for the new "
                      "point, or the table is not 3 rows:\n${carried}")
endif()
file(STRINGS ${OUT}/continued/dfg-2d1_summary.csv where REGEX "^probe_")
if(NOT where STREQUAL "probe_1_x,0.5;probe_1_y,0.2;probe_2_x,1;probe_2_y,0.2")
  message(FATAL_ERROR "the summary does not say where the probes are: ${where}")
endif()

# A continuation that does not give output.probes probes where the run it continues did (the
# documented continuation command has none): the columns go on, without a warning.
execute_process(COMMAND ${APP} ${common} --set time.mode=transient --set time.initial=restart
                        --set time.restart_file=${OUT}/continued/dfg-2d1_restart.h5 --set time.dt=0.01
                        --set time.end=0.03 --set output.dir=${OUT}/inherited
                RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
file(STRINGS ${OUT}/inherited/dfg-2d1_forces.csv lines)
list(GET lines 0 header)
list(LENGTH lines n)
if(NOT rc EQUAL 0 OR NOT n EQUAL 5 OR NOT header MATCHES ",u_2,v_2,p_2$" OR log MATCHES "output.probes differ"
   OR NOT log MATCHES "probes \\(u_k, v_k, p_k in the forces table\\): 1 \\(0.5, 0.2\\), 2 \\(1, 0.2\\); the \
restart file's, as output.probes is not given")
  message(FATAL_ERROR "a continuation without output.probes did not keep the probes (${rc}, ${n} lines, ${header}):\n"
                      "${log}")
endif()
