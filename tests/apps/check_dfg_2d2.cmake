# DFG 2D-2 (Schäfer & Turek 1996) against the published intervals, over the window t in [4.5, 5.5]
# where the periodic regime has set in (docs/solvers.md). The run starts from a committed restart
# file at t = 4.5 (tests/data/dfg-2d2_t4.5_restart.h5, written by
#   tessera-cfd decks/dfg-2d2.yaml --set time.end=4.5 --set analysis.start=0 --set output.every=0
# ), so it takes 200 steps instead of 1,100. Its mesh is Gmsh's: where this machine's Gmsh makes
# another mesh from the same settings, the restart is refused as computed on another mesh, and the
# run starts from rest instead (the same check, five times as long).
#   cmake -DAPP=<tessera-cfd> -DDECK=<dfg-2d2.yaml> -DSTATE=<restart file> -DOUT=<dir> -P check_dfg_2d2.cmake
# An empty STATE (a build without HDF5) runs from rest.
file(REMOVE_RECURSE ${OUT})
set(common ${DECK} --set time.end=5.5 --set analysis.start=4.5 --set output.every=0 --set output.dir=${OUT})
if(STATE STREQUAL "")
  execute_process(COMMAND ${APP} ${common} RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
else()
  execute_process(COMMAND ${APP} ${common} --set time.initial=restart --set time.restart_file=${STATE}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
endif()
if(NOT rc EQUAL 0 AND log MATCHES "time.restart_file: [^\n]*was computed on ")
  message(WARNING "the committed state is of another mesh than this machine's Gmsh makes; from rest (regenerate "
                  "it with the command above):\n${log}")
  execute_process(COMMAND ${APP} ${common} RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tessera-cfd failed (${rc}):\n${log}")
endif()
set(intervals "c_D,max = 3\\.2[23][0-9]*, c_L,max = (0\\.99|1\\.00)[0-9]*, St = (0\\.29[5-9]|0\\.30[0-4])[0-9]*[;]")
if(NOT log MATCHES "t in \\[4.5, 5.5\\]: ${intervals}")
  message(FATAL_ERROR "c_D,max, c_L,max or St outside the published intervals (3.22-3.24, 0.99-1.01, "
                      "0.295-0.305):\n${log}")
endif()
message(STATUS "${CMAKE_MATCH_0}")
