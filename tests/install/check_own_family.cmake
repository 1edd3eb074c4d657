# examples/own_family built against an installed tessera, as someone adding a model family of their
# own would: its my-train trains the out-of-tree graph_mlp family through tessera's loop, and a run
# stopped at step 10 and resumed into another folder gives the uninterrupted run's loss.csv and
# metrics.csv byte for byte (weights, AdamW moments and step restored through tessera's checkpoint).
#   cmake -DBUILD=<build dir> -DSOURCE=<source dir> -DOUT=<scratch dir> -DDATA=<dataset> -DGENERATOR=<gen>
#         -DCXX=<compiler> [-DLAUNCHER=<ccache>] -P check_own_family.cmake
file(REMOVE_RECURSE ${OUT})
function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "own_family ${step} failed (${rc}):\n${out}\n${err}")
  endif()
  set(log "${out}${err}" PARENT_SCOPE)
endfunction()
run(install ${CMAKE_COMMAND} --install ${BUILD} --prefix ${OUT}/prefix)
set(launcher "")
if(LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
run(configure ${CMAKE_COMMAND} -S ${SOURCE}/examples/own_family -B ${OUT}/build -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${OUT}/prefix -DCMAKE_BUILD_TYPE=Release ${launcher})
run(build ${CMAKE_COMMAND} --build ${OUT}/build)
set(app ${OUT}/build/my-train ${SOURCE}/examples/own_family/graph_mlp.yaml --set graph_mlp.data_dir=${DATA}
    --set graph_mlp.hidden=16 --set train.validate_every=5 --set train.checkpoint_every=0)
run(straight ${app} --set train.steps=20 --set output.dir=${OUT}/straight)
if(NOT log MATCHES "graph_mlp: validation 1-step RMSE [0-9.e+-]+ \\(persistence [0-9.e+-]+\\)")
  message(FATAL_ERROR "my-train did not validate the graph_mlp family:\n${log}")
endif()
run(first ${app} --set train.steps=10 --set output.dir=${OUT}/first)
run(resumed ${app} --set train.steps=20 --set output.dir=${OUT}/resumed --set train.resume=${OUT}/first/checkpoint.h5)
foreach(f loss.csv metrics.csv)
  file(READ ${OUT}/straight/${f} straight)
  file(READ ${OUT}/resumed/${f} resumed)
  if(NOT straight STREQUAL resumed)
    message(FATAL_ERROR "${f} of the run resumed at step 10 differs from the uninterrupted run's:\n"
                        "--- uninterrupted\n${straight}\n--- resumed\n${resumed}")
  endif()
endforeach()
# The family's keys are checked like tessera's own: an error at the key, exit 1.
execute_process(COMMAND ${app} --set graph_mlp.hidden=0 --set output.dir=${OUT}/bad RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT "${out}${err}" MATCHES "graph_mlp.hidden")
  message(FATAL_ERROR "graph_mlp.hidden = 0 was not refused at its key (exit ${rc}):\n${out}${err}")
endif()
# A resume from another family's checkpoint is named as such (train_from_deck, for every family;
# it failed on the tensors: "holds 262 parameter tensors, the deck's model has 4").
if(DEFINED OTHER_CHECKPOINT AND EXISTS "${OTHER_CHECKPOINT}")
  execute_process(COMMAND ${app} --set train.resume=${OTHER_CHECKPOINT} --set output.dir=${OUT}/other_family
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 1 OR NOT "${err}" MATCHES "checkpoint of a '[a-z]+' model, the deck builds a 'graph_mlp' \\(model.family\\)")
    message(FATAL_ERROR "another family's checkpoint was not named (exit ${rc}):\n${out}${err}")
  endif()
  message(STATUS "ok: ${err}")
endif()
message(STATUS "ok: graph_mlp trained through tessera's loop and resumed exactly")
