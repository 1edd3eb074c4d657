# Fails when a C++/CUDA source of tessera differs from clang-format's output (.clang-format at the
# root). Run by ctest as `format.clang-format`; fix with scripts/format.
#   cmake -DSOURCE_DIR=<root> -DCLANG_FORMAT=<clang-format> -P tests/check_format.cmake
# scripts/format reads this list.
set(folders core linalg mesh io gnn physics solvers train jobs apps bench tests examples fuzz)
set(files "")
foreach(folder IN LISTS folders)
  file(GLOB_RECURSE found ${SOURCE_DIR}/${folder}/*.cpp ${SOURCE_DIR}/${folder}/*.hpp
       ${SOURCE_DIR}/${folder}/*.cu ${SOURCE_DIR}/${folder}/*.cuh)
  list(APPEND files ${found})
endforeach()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no sources found under ${SOURCE_DIR}")
endif()
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${files}
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0)
  string(REGEX MATCHALL "[^\n]*: error: code should be clang-formatted[^\n]*" bad "${err}")
  list(LENGTH bad nbad)
  message(FATAL_ERROR "${nbad} places differ from clang-format (run scripts/format):\n${err}")
endif()
message(STATUS "${count} sources are clang-formatted")
