# Two runs writing one folder's training files: the second stops before any work with one line
# naming the first (before, both ran to the end, each overwriting the other's checkpoint and loss
# history); the first's lock file goes when it ends.
file(REMOVE_RECURSE ${OUT})
file(REMOVE ${OUT}.log)
set(common ${DECK} --set data.dir=${DATA} --set model.latent=16 --set model.layers=2 --set train.validate_every=0
    --set train.rollout_steps=5 --set output.dir=${OUT})
list(JOIN common " " common)
# The first is stopped by SIGUSR1 (its planned stop, with a checkpoint) once the second has ended
# and the first has its handler (it has logged its threads).
execute_process(COMMAND sh -c "(${APP} ${common} --set train.steps=1000000 --set train.checkpoint_every=0 > ${OUT}.log 2>&1 & p=$!; i=0; while [ ! -s ${OUT}/.training.lock ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; ${APP} ${common} --set train.steps=2; echo \"second exit $?\"; i=0; while ! grep -qs 'threads:' ${OUT}.log && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; kill -USR1 $p; wait $p; echo \"first exit $?\")"
                OUTPUT_VARIABLE log ERROR_VARIABLE log)
file(READ ${OUT}.log first_log)
set(expected "tessera-train: error: --set output.dir: '[^']*' is in use by another run \\(tessera-train, pid [0-9]+ on host [^,]+, since [0-9-]+ [0-9:]+ UTC\\): two runs writing training files into one folder overwrite each other's[;] wait for that run to end, or choose another output.dir\nsecond exit 1\n")
if(NOT log MATCHES "${expected}")
  message(FATAL_ERROR "the second run was not refused as expected:\n${log}\nthe first run:\n${first_log}")
endif()
if(NOT log MATCHES "first exit 138")
  message(FATAL_ERROR "the first run did not stop by its SIGUSR1:\n${log}\n${first_log}")
endif()
if(EXISTS ${OUT}/.training.lock)
  message(FATAL_ERROR "the first run left its lock file")
endif()
if(NOT EXISTS ${OUT}/checkpoint.h5)
  message(FATAL_ERROR "the first run wrote no checkpoint:\n${first_log}")
endif()
