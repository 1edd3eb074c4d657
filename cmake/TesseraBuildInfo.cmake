# Writes OUT, the C++ source of core/build_info.hpp's functions: the source's git commit (looked up
# at every build, so a commit made after configuring is not missed; "-dirty" with uncommitted
# changes) and LIBRARIES, the versions found when configuring. The file is rewritten only when its
# text changes, so an unchanged build recompiles nothing.
#   cmake -DSOURCE_DIR=<dir> -DOUT=<file.cpp> -DLIBRARIES=<text> -P TesseraBuildInfo.cmake
set(commit "unknown (not built from a git checkout)")
find_program(GIT git)
if(GIT AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT} -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12
                  RESULT_VARIABLE rc OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(rc EQUAL 0 AND NOT described STREQUAL "")
    set(commit "${described}")
  endif()
endif()
set(text "// Generated at build time by cmake/TesseraBuildInfo.cmake.
#include \"core/build_info.hpp\"

namespace tessera::core {
const char* git_commit() { return \"${commit}\"; }
const char* build_libraries() { return \"${LIBRARIES}\"; }
}  // namespace tessera::core
")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
