# tessera-mesh rerun into one folder at another rank count: the earlier run's whole-mesh file or
# parallel file goes (a .pvtu whose pieces the rerun removed could not be read; a .vtu beside a
# .pvtu passed for this run's).
#   cmake -DMPIEXEC=<mpirun> -DAPP=<tessera-mesh> -DDECK=<deck> -DDIR=<output.dir> -P check_mesh_rerun.cmake
file(REMOVE_RECURSE ${DIR})
foreach(np 2 1 2)
  execute_process(COMMAND ${MPIEXEC} -n ${np} --oversubscribe ${APP} ${DECK} --set output.dir=${DIR}
                          --set output.name=cyl RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tessera-mesh at np ${np} failed (${rc}):\n${err}")
  endif()
  if(np EQUAL 1)
    set(present cyl.vtu)
    set(absent cyl.pvtu cyl_0.vtu cyl_1.vtu)
  else()
    set(present cyl.pvtu cyl_0.vtu cyl_1.vtu)
    set(absent cyl.vtu)
  endif()
  foreach(f IN LISTS present)
    if(NOT EXISTS ${DIR}/${f})
      message(FATAL_ERROR "after the run at np ${np}: ${f} is missing")
    endif()
  endforeach()
  foreach(f IN LISTS absent)
    if(EXISTS ${DIR}/${f})
      message(FATAL_ERROR "after the run at np ${np}: ${f} of the earlier run is still there")
    endif()
  endforeach()
endforeach()
# A rerun reading the earlier run's .msh (mesh.file) and writing none keeps it (it was removed as
# an earlier output).
execute_process(COMMAND ${APP} ${DECK} --set output.dir=${DIR} --set output.name=cyl --set mesh.source=msh
                        --set mesh.file=${DIR}/cyl.msh --set output.msh=false
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT EXISTS ${DIR}/cyl.msh)
  message(FATAL_ERROR "a rerun from the earlier cyl.msh failed (${rc}) or removed it:\n${err}")
endif()
# The stored deck says what produced the files: tessera's version and commit, the ranks and host.
file(STRINGS ${DIR}/cyl.deck.yaml head LIMIT_COUNT 2)
list(GET head 0 first)
list(GET head 1 second)
if(NOT first MATCHES "^# tessera [0-9.]+ \\(git [^)]+\\)" OR NOT second MATCHES "^# run on 1 rank on host ")
  message(FATAL_ERROR "cyl.deck.yaml does not begin with its provenance:\n${first}\n${second}")
endif()
