# trajectories.csv's first line names the dataset's seed and its common settings; a dataset made
# before (2026-12-06), whose first line was an empty sample's fingerprint (`center 0 0 radius 0
# inflow 0 ...`, no seed), is still recognised as complete, not "made with other settings".
# Works on a copy of the finished dataset DATA; CMD is the dataset job without dataset.dir.
file(REMOVE_RECURSE ${OUT})
file(COPY ${DATA}/ DESTINATION ${OUT})
file(READ ${OUT}/trajectories.csv table)
set(prefix "# dataset.seed [0-9]+[;] drawn per trajectory: the columns below[;] common to all: ")
if(NOT table MATCHES "^${prefix}profile ")
  message(FATAL_ERROR "trajectories.csv does not begin with the seed and the common settings:\n${table}")
endif()
string(REGEX REPLACE "^${prefix}" "# center 0 0 radius 0 inflow 0 " legacy "${table}")
file(WRITE ${OUT}/trajectories.csv "${legacy}")
execute_process(COMMAND ${CMD} --set dataset.dir=${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0 OR NOT log MATCHES "is complete, with these trajectories[;] nothing to do")
  message(FATAL_ERROR "the dataset with the earlier first line was not recognised as complete (${rc}):\n${log}")
endif()
