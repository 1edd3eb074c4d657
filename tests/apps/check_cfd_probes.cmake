# output.probes: u, v, p at points as columns of the forces table. A steady DFG 2D-1 run (coarse)
# probes the inflow's peak (0, 0.205), where the velocity is the imposed U_m = 0.3 exactly, and a
# point in the wake; a transient continuation from its restart file probes the wake point and a
# new one: the carried row keeps the wake point's values, with nan for the new one, and a warning
# says so.
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
if(NOT log MATCHES "warning: output.probes: the run that wrote [^\n]*steady/dfg-2d1_restart.h5 probed 1 of this \
run's 2 points; the others' columns are nan before t = 0; its 1 other point is left out of the table")
  message(FATAL_ERROR "no warning about the probes the runs do not share:\n${log}")
endif()
file(STRINGS ${OUT}/continued/dfg-2d1_forces.csv lines)
list(LENGTH lines n)
list(GET lines 1 carried)
if(NOT n EQUAL 4 OR NOT carried MATCHES ",${wake},nan,nan,nan$")
  message(FATAL_ERROR "the carried row does not keep the wake point's values (${wake}) with nan for the new "
                      "point, or the table is not 3 rows:\n${carried}")
endif()
