# tessera-train resumed from a step-10 checkpoint continues to step 20: it reports the resume
# and trains exactly the remaining 10 steps. (That resumed training is bit-for-bit equal to an
# uninterrupted run is checked on the tensors themselves in test_train.)
# With MPIEXEC both runs use 2 ranks, and every rank's log (--log-dir) ends on the same smoothed
# loss: rank 0 alone reads loss.csv, and the others go on from its value (they began anew).
file(REMOVE_RECURSE ${OUT})
set(launch "")
if(MPIEXEC)
  set(launch ${MPIEXEC} -n 2 --oversubscribe)
endif()
set(common ${DECK} --set data.dir=${DATA} --set model.latent=16 --set model.layers=2 --set train.validate_every=0
    --set train.rollout_steps=5)
execute_process(COMMAND ${launch} ${APP} ${common} --set train.steps=10 --set output.dir=${OUT}/first RESULT_VARIABLE rc1)
execute_process(COMMAND ${launch} ${APP} ${common} --set train.steps=20 --set output.dir=${OUT}/second
                        --set train.resume=${OUT}/first/checkpoint.h5 --log-dir ${OUT}/logs
                RESULT_VARIABLE rc2 OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT (rc1 EQUAL 0 AND rc2 EQUAL 0))
  message(FATAL_ERROR "a run failed: ${rc1} ${rc2}\n${log}")
endif()
if(NOT log MATCHES "resumed from [^\n]*first/checkpoint.h5 at step 10")
  message(FATAL_ERROR "the resumed run did not report resuming at step 10:\n${log}")
endif()
# Its progress counts steps as validation does, from the resumed step.
if(NOT log MATCHES "train 20/20 100.0%")
  message(FATAL_ERROR "the resumed run's progress did not end at step 20 of 20:\n${log}")
endif()
file(STRINGS ${OUT}/second/loss.csv rows)
list(LENGTH rows n)
if(NOT n EQUAL 21)
  message(FATAL_ERROR "second/loss.csv has ${n} lines, not a header and the steps 1 to 20:\n${rows}")
endif()
if(MPIEXEC)
  foreach(r 0 1)
    file(READ ${OUT}/logs/tessera-train.rank${r}.log rank_log)
    if(NOT rank_log MATCHES "train 20/20 100.0%[^\n]*smoothed ([^ \n]+)")
      message(FATAL_ERROR "rank ${r}'s log has no final progress line:\n${rank_log}")
    endif()
    set(smoothed${r} ${CMAKE_MATCH_1})
  endforeach()
  # Rank 1's log says who wrote the checkpoint (rank 0; it said "wrote" as if rank 1 had).
  if(NOT rank_log MATCHES "rank 0 wrote [^\n]*second/checkpoint.h5")
    message(FATAL_ERROR "rank 1's log does not say that rank 0 wrote the checkpoint:\n${rank_log}")
  endif()
  if(NOT smoothed0 STREQUAL smoothed1)
    message(FATAL_ERROR "rank 1 ended on smoothed loss ${smoothed1}, rank 0 on ${smoothed0}")
  endif()
endif()
