#include "tests/test_paths.hpp"

namespace tessera::test {

std::string source_dir() { return TESSERA_SOURCE_DIR; }
std::string test_out() { return TESSERA_TEST_OUT; }

}  // namespace tessera::test
