# A rollout rerun into the same directory with fewer steps leaves none of the first run's later
# step files (they would pass for the second run's own).
#   cmake -DCMD=<exe;args...> -DDIR=<output.dir> -P check_rerun.cmake
file(REMOVE_RECURSE ${DIR})
foreach(steps 6 2)
  execute_process(COMMAND ${CMD} --set rollout.steps=${steps} --set output.dir=${DIR} --set output.vtu=true
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "rollout of ${steps} steps failed (${rc}):\n${err}")
  endif()
  if(steps EQUAL 6 AND NOT EXISTS ${DIR}/rollout_000006.h5)
    message(FATAL_ERROR "the 6-step run wrote no rollout_000006.h5")
  endif()
endforeach()
foreach(stale rollout_000003.h5 rollout_000006.h5 rollout_3.vtu rollout_6.vtu)
  if(EXISTS ${DIR}/${stale})
    message(FATAL_ERROR "${stale} of the first run is still in ${DIR}")
  endif()
endforeach()
if(NOT EXISTS ${DIR}/rollout_000002.h5 OR NOT EXISTS ${DIR}/rollout_2.vtu)
  message(FATAL_ERROR "the second run's files are missing")
endif()
# A third run without VTK output leaves no .pvd or .vtu of the earlier ones.
execute_process(COMMAND ${CMD} --set rollout.steps=2 --set output.dir=${DIR} --set output.vtu=false
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR EXISTS ${DIR}/rollout.pvd OR EXISTS ${DIR}/rollout_2.vtu OR NOT EXISTS ${DIR}/rollout.xmf)
  message(FATAL_ERROR "after a run without output.vtu: rc ${rc}, stale .pvd/.vtu left, or no .xmf\n${err}")
endif()
# A list of trajectories after one, then one after a list: neither leaves the other form's files
# (rollout_1.vtu, step 1 of one trajectory, beside rollout_0.pvd, trajectory 0 of a list).
execute_process(COMMAND ${CMD} --set rollout.steps=2 --set output.dir=${DIR} --set output.vtu=true
                        --set "rollout.trajectories=[0]" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT EXISTS ${DIR}/rollout_trajectories.csv OR NOT EXISTS ${DIR}/rollout_0.pvd)
  message(FATAL_ERROR "the rollout of the list [0] failed (${rc}) or wrote no table\n${err}")
endif()
foreach(stale rollout.xmf rollout_000001.h5 rollout_mesh.h5 rollout_summary.csv rollout_metrics.csv rollout.png
        rollout_wake_probe.csv)
  if(EXISTS ${DIR}/${stale})
    message(FATAL_ERROR "${stale} of the single-trajectory run is still in ${DIR} beside the list's")
  endif()
endforeach()
execute_process(COMMAND ${CMD} --set rollout.steps=2 --set output.dir=${DIR} --set output.vtu=true
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
foreach(stale rollout_trajectories.csv rollout_0.pvd rollout_0.xmf rollout_0_mesh.h5 rollout_0_000001.h5 rollout_0_1.vtu
        rollout_0_summary.csv rollout_0.png)
  if(EXISTS ${DIR}/${stale})
    message(FATAL_ERROR "${stale} of the list's run is still in ${DIR} beside the single trajectory's")
  endif()
endforeach()
if(NOT rc EQUAL 0 OR NOT EXISTS ${DIR}/rollout.xmf OR NOT EXISTS ${DIR}/rollout_1.vtu)
  message(FATAL_ERROR "the single-trajectory run after them failed (${rc}) or wrote no series\n${err}")
endif()
# A rerun that fails on its input (a trajectory the split lacks) leaves the earlier results alone
# (the removal ran before the checks, and emptied the folder).
foreach(bad "rollout.trajectory=999" "rollout.trajectories=[0,999]")
  execute_process(COMMAND ${CMD} --set rollout.steps=2 --set output.dir=${DIR} --set "${bad}"
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0 OR NOT EXISTS ${DIR}/rollout.xmf OR NOT EXISTS ${DIR}/rollout_000002.h5 OR NOT EXISTS ${DIR}/rollout_1.vtu)
    message(FATAL_ERROR "a rollout refused for ${bad} (exit ${rc}) removed the earlier run's files")
  endif()
endforeach()
message(STATUS "ok: no stale step files")
