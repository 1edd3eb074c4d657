// The shared frame of every tessera-<job> executable: MPI start/stop, command line (deck path,
// --set overrides, --help with every deck key, --deck-reference for docs/decks.md, logging),
// deck loading and one-line errors with a non-zero exit. Unknown options starting with '-' are
// passed through untouched (PETSc options for solver apps).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "io/deck.hpp"

namespace spdlog {
class logger;
}

namespace tessera::apps {

struct Context {
  const io::Deck& deck;
  Comm comm;
  std::shared_ptr<spdlog::logger> log;
  std::vector<std::string> passthrough;  // e.g. PETSc options
};

struct AppSpec {
  std::string name;     // "tessera-mesh"
  std::string summary;  // one line for --help
  std::function<void(io::Schema&)> schema;
  std::function<void(Context&)> run;
  bool pass_options = false;                // accept unknown "-name [value]" options (PETSc) into Context::passthrough
  std::string reference = "docs/decks.md";  // where the deck keys are documented (--help)
};

int run_app(int argc, char** argv, const AppSpec& spec);

}  // namespace tessera::apps
