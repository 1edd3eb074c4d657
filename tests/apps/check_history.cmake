# tessera-train keeps results: (1) a second fresh run into the same output.dir stops with one
# line saying how to resume or overwrite, and leaves the checkpoint alone; (2) resuming in the
# same directory appends to metrics.csv (steps 5, 10 from the first run; 15, 20 from the second);
# (3) a resume into another output.dir starts its metrics.csv and loss.csv with the rows beside the
# checkpoint (it began both anew); (4) a resumed run refuses a damaged metrics.csv by file and line.
#   cmake -DAPP=<tessera-train> -DDECK=<deck> -DDATA=<dataset> -DOUT=<dir> -P check_history.cmake
file(REMOVE_RECURSE ${OUT})
set(common ${DECK} --set data.dir=${DATA} --set model.latent=16 --set model.layers=2 --set train.validate_every=5
    --set train.rollout_steps=5 --set train.warmup=2 --set output.dir=${OUT})
execute_process(COMMAND ${APP} ${common} --set train.steps=10 RESULT_VARIABLE rc1 OUTPUT_VARIABLE log1 ERROR_VARIABLE err1)
if(NOT rc1 EQUAL 0)
  message(FATAL_ERROR "the first run failed:\n${log1}\n${err1}")
endif()
file(SHA256 ${OUT}/checkpoint.h5 before)
execute_process(COMMAND ${APP} ${common} --set train.steps=10 RESULT_VARIABLE rc2 OUTPUT_VARIABLE log2 ERROR_VARIABLE err2)
string(STRIP "${err2}" err2)
if(rc2 EQUAL 0 OR NOT err2 MATCHES "^tessera-train: error: [^\n]*checkpoint.h5 exists from an earlier run: resume it with --set train.resume=[^\n]*output.overwrite=true[^\n]*$")
  message(FATAL_ERROR "a second fresh run did not refuse to overwrite (exit ${rc2}):\n${err2}")
endif()
file(SHA256 ${OUT}/checkpoint.h5 after)
if(NOT before STREQUAL after)
  message(FATAL_ERROR "the refused run changed checkpoint.h5")
endif()
execute_process(COMMAND ${APP} ${common} --set train.steps=20 --set train.resume=${OUT}/checkpoint.h5
                RESULT_VARIABLE rc3 OUTPUT_VARIABLE log3 ERROR_VARIABLE err3)
if(NOT rc3 EQUAL 0)
  message(FATAL_ERROR "the resumed run failed:\n${log3}\n${err3}")
endif()
file(STRINGS ${OUT}/metrics.csv rows)
list(TRANSFORM rows REPLACE ",.*" "")
if(NOT "${rows}" STREQUAL "step;5;10;15;20")
  message(FATAL_ERROR "metrics.csv does not hold the whole history (steps: ${rows})")
endif()
# (3) Into another folder: the whole history there (metrics.csv's steps, loss.csv's 25 rows).
execute_process(COMMAND ${APP} ${common} --set train.steps=25 --set train.resume=${OUT}/checkpoint.h5
                --set output.dir=${OUT}/elsewhere RESULT_VARIABLE rc5 OUTPUT_VARIABLE log5 ERROR_VARIABLE err5)
if(NOT rc5 EQUAL 0)
  message(FATAL_ERROR "the run resumed into another folder failed:\n${log5}\n${err5}")
endif()
file(STRINGS ${OUT}/elsewhere/metrics.csv moved)
list(TRANSFORM moved REPLACE ",.*" "")
file(STRINGS ${OUT}/elsewhere/loss.csv losses)
list(LENGTH losses loss_rows)
if(NOT "${moved}" STREQUAL "step;5;10;15;20;25" OR NOT loss_rows EQUAL 26)
  message(FATAL_ERROR "a resume into another folder lost the history (metrics.csv steps: ${moved}; loss.csv: ${loss_rows} lines)")
endif()
# (4) A damaged metrics.csv row stops a resumed run with the file and line, not a conversion's error.
file(APPEND ${OUT}/metrics.csv "garbage\n")
execute_process(COMMAND ${APP} ${common} --set train.steps=25 --set train.resume=${OUT}/checkpoint.h5
                RESULT_VARIABLE rc4 OUTPUT_VARIABLE log4 ERROR_VARIABLE err4)
if(rc4 EQUAL 0 OR NOT err4 MATCHES "metrics.csv:6: a row must begin with its step and a comma, not 'garbage'")
  message(FATAL_ERROR "a damaged metrics.csv was not refused by line (exit ${rc4}):\n${err4}")
endif()
message(STATUS "ok: refused to overwrite; metrics.csv steps ${rows}; in another folder ${moved}; a damaged row refused")
