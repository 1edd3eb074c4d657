# Installs the build into a fresh prefix, then configures, builds and runs examples/consumer
# against it with find_package(tessera), as a library user would.
#   cmake -DBUILD=<build dir> -DSOURCE=<source dir> -DOUT=<scratch dir> -DGENERATOR=<gen> -DCXX=<compiler> -P check_consumer.cmake
file(REMOVE_RECURSE ${OUT})
foreach(step install configure build run)
  if(step STREQUAL "install")
    set(cmd ${CMAKE_COMMAND} --install ${BUILD} --prefix ${OUT}/prefix)
  elseif(step STREQUAL "configure")
    set(cmd ${CMAKE_COMMAND} -S ${SOURCE}/examples/consumer -B ${OUT}/build -G ${GENERATOR}
            -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${OUT}/prefix -DCMAKE_BUILD_TYPE=Release)
  elseif(step STREQUAL "build")
    set(cmd ${CMAKE_COMMAND} --build ${OUT}/build)
  else()
    set(cmd ${OUT}/build/tessera_consumer)
  endif()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer ${step} failed (${rc}):\n${out}\n${err}")
  endif()
endforeach()
message(STATUS "${out}")
