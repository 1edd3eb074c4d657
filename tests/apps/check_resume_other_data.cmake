# A checkpoint records its training trajectories' fingerprints (train/trained_on.hpp): a resume
# may read the same data from another folder (data moved to scratch), but a folder holding other
# data is refused at data.dir, naming the first trajectory that differs (it trained on in silence
# before). The other data is the dataset with its validation split copied over train.h5.
file(REMOVE_RECURSE ${OUT})
set(common ${DECK} --set model.latent=16 --set model.layers=2 --set train.validate_every=0 --set train.rollout_steps=5)
execute_process(COMMAND ${APP} ${common} --set data.dir=${DATA} --set train.steps=2 --set output.dir=${OUT}/first
                RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the first run failed (${rc}):\n${log}")
endif()
file(COPY ${DATA}/ DESTINATION ${OUT}/moved)
execute_process(COMMAND ${APP} ${common} --set data.dir=${OUT}/moved --set train.steps=3 --set output.dir=${OUT}/first
                        --set train.resume=${OUT}/first/checkpoint.h5
                RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0 OR NOT log MATCHES "resumed from [^\n]*first/checkpoint.h5 at step 2")
  message(FATAL_ERROR "the resume on the same data in another folder failed (${rc}):\n${log}")
endif()
file(COPY ${DATA}/ DESTINATION ${OUT}/other)
file(COPY_FILE ${OUT}/other/valid.h5 ${OUT}/other/train.h5)
# Refused with one error line (check_error.cmake: exit code 1, one line on stderr, EXPECT).
set(CMD ${APP} ${common} --set data.dir=${OUT}/other --set train.steps=4 --set output.dir=${OUT}/first
        --set train.resume=${OUT}/first/checkpoint.h5)
set(EXPECT "error: --set data.dir: [^\n]*first/checkpoint.h5: this run was trained on [0-9]+ trajectories of "
           "[^\n]*moved/train.h5[;] [^\n]*other/train.h5 holds other data \\((its training trajectory #0 differs|it "
           "holds [0-9]+ training trajector[a-z]+ where the run had [0-9]+)\\)[;] a resume continues the same run")
string(JOIN "" EXPECT ${EXPECT})
include(${CMAKE_CURRENT_LIST_DIR}/check_error.cmake)
