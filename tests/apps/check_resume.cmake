# tessera-train resumed from a step-10 checkpoint continues to step 20: it reports the resume
# and trains exactly the remaining 10 steps. (That resumed training is bit-for-bit equal to an
# uninterrupted run is checked on the tensors themselves in test_train.)
file(REMOVE_RECURSE ${OUT})
set(common ${DECK} --set data.dir=${DATA} --set model.latent=16 --set model.layers=2 --set train.validate_every=0
    --set train.rollout_steps=5)
execute_process(COMMAND ${APP} ${common} --set train.steps=10 --set output.dir=${OUT}/first RESULT_VARIABLE rc1)
execute_process(COMMAND ${APP} ${common} --set train.steps=20 --set output.dir=${OUT}/second
                        --set train.resume=${OUT}/first/checkpoint.h5 RESULT_VARIABLE rc2 OUTPUT_VARIABLE log)
if(NOT (rc1 EQUAL 0 AND rc2 EQUAL 0))
  message(FATAL_ERROR "a run failed: ${rc1} ${rc2}\n${log}")
endif()
if(NOT log MATCHES "resumed from [^\n]*first/checkpoint.h5 at step 10")
  message(FATAL_ERROR "the resumed run did not report resuming at step 10:\n${log}")
endif()
if(NOT log MATCHES "train 10/10 100.0%")
  message(FATAL_ERROR "the resumed run did not train exactly the remaining 10 steps:\n${log}")
endif()
