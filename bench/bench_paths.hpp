// Where the bench programs find the repository's decks and the peers' Python scripts. Functions,
// defined in bench_paths.cpp, the one bench source compiled with the path: a path compiled into
// a bench's own source made it miss ccache in a clone at another path (four programs, ~50 s of a
// core each; docs/design.md, "Unity builds, test code at -O1").
#pragma once
#include <string>

namespace tessera::bench {

std::string source_dir();  // the repository's root
std::string bench_dir();   // <source>/bench, where the peers' scripts are

}  // namespace tessera::bench
