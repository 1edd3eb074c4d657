// Where the tests read their inputs (the source tree) and write their outputs (<build>/test_out).
// Functions, defined in test_paths.cpp, the one test source compiled with the paths: paths
// compiled into every test source made each of them miss ccache in a clone at another path
// (docs/design.md, "Unity builds, test code at -O1").
#pragma once
#include <string>

namespace tessera::test {

std::string source_dir();  // the repository's root
std::string test_out();    // <build>/test_out

}  // namespace tessera::test
