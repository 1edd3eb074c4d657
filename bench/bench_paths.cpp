#include "bench/bench_paths.hpp"

namespace tessera::bench {

std::string source_dir() { return TESSERA_SOURCE_DIR; }
std::string bench_dir() { return TESSERA_SOURCE_DIR "/bench"; }

}  // namespace tessera::bench
