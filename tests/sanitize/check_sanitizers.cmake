# Builds the torch-free libraries (core, mesh, io) and their tests with AddressSanitizer and
# UndefinedBehaviorSanitizer in a separate build tree and runs the tests; any report fails.
#   cmake -DSOURCE=<source dir> -DOUT=<scratch build dir> -DGENERATOR=<gen> -DCXX=<compiler>
#         -DPYTHON=<TESSERA_PYTHON> -P check_sanitizers.cmake
# -O0 -g1, and no Debug "-g" on top (CMAKE_CXX_FLAGS_DEBUG empty): the tree's compile is the long
# pole of a cold CI run (catch_main.cpp alone took 167 s at -O1 -g, 65 s at -O0 -g1), while the
# six programs run in seconds either way. The sanitizers find the same errors at -O0.
set(flags "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O0 -g1")
set(tests test_core test_mesh test_partition test_gmsh test_io test_io_import)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${OUT} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Debug
                        -DCMAKE_CXX_FLAGS_DEBUG= -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${flags}"
                        "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" -DTESSERA_PYTHON=${PYTHON}
                        -DTESSERA_BUILD_BENCH=OFF -DTESSERA_WITH_CUDA=OFF -DTESSERA_WITH_PETSC=OFF
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "sanitizer configure failed:\n${out}\n${err}")
endif()
# Only the targets that exist in this configuration (test_gmsh needs Gmsh, test_io_import HDF5+VTK).
set(built "")
foreach(t ${tests})
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${OUT} --target ${t} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(rc EQUAL 0)
    list(APPEND built ${t})
  elseif(out MATCHES "unknown target" OR err MATCHES "unknown target")
    message(STATUS "${t}: not part of this configuration")
  else()
    message(FATAL_ERROR "building ${t} with sanitizers failed:\n${out}\n${err}")
  endif()
endforeach()
# OpenMPI's own allocations are not ours to fix: leaks are not checked (MPI_Init/Finalize leak by design).
set(ENV{ASAN_OPTIONS} "detect_leaks=0:abort_on_error=0:halt_on_error=1")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
foreach(t ${built})
  file(GLOB_RECURSE exe ${OUT}/tests/${t})
  execute_process(COMMAND ${exe} WORKING_DIRECTORY ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR err MATCHES "runtime error:|AddressSanitizer")
    message(FATAL_ERROR "${t} under ASan+UBSan failed (${rc}):\n${out}\n${err}")
  endif()
  string(REGEX MATCH "All tests passed[^\n]*" summary "${out}")
  message(STATUS "${t}: ${summary}")
endforeach()
message(STATUS "sanitizers clean: ${built}")
