# Writes OUT, the C++ source of core/build_info.hpp's functions: the source's git commit (looked up
# at every build, so a commit made after configuring is not missed; 12 hex digits, "-dirty" with
# uncommitted changes to tracked files) and LIBRARIES, the versions found when configuring. The
# file is rewritten only when its text changes, so an unchanged build recompiles nothing.
#   cmake -DSOURCE_DIR=<dir> -DOUT=<file.cpp> -DLIBRARIES=<text> -P TesseraBuildInfo.cmake
set(commit "unknown (not built from a git checkout)")
find_program(GIT git)
if(GIT AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT} -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
                  RESULT_VARIABLE rc OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(rc EQUAL 0 AND NOT head STREQUAL "")
    set(commit "${head}")
    execute_process(COMMAND ${GIT} -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                    RESULT_VARIABLE rc OUTPUT_VARIABLE changes ERROR_QUIET)
    if(NOT rc EQUAL 0 OR NOT changes STREQUAL "")
      string(APPEND commit "-dirty")
    endif()
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
