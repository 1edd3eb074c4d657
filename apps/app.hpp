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

// Output files a run writes, claimed for the run by rank 0 before it starts (core/output_claim.hpp):
// the deck key naming their folder, what names them (output.name's value, or a fixed word for
// fixed file names: "training", "dataset"), the key that sets that name ("" for fixed ones), and
// the beginnings of their file names (an earlier, killed run's unfinished <file>.tmp are removed).
struct OutputClaim {
  std::string dir_key;
  std::string name;
  std::string name_key;
  std::vector<std::string> file_prefixes;
};

// The usual claim: output.dir's files named by output.name (<name>.xmf, <name>_000001.h5, ...).
std::vector<OutputClaim> named_outputs(const io::Deck& deck);
// A training run's claim (tessera-train and programs with families of their own): output.dir's
// checkpoint, histories and the families' result files, so that a second run into the same
// folder stops at once instead of overwriting them.
std::vector<OutputClaim> training_outputs(const io::Deck& deck);

struct AppSpec {
  std::string name;     // "tessera-mesh"
  std::string summary;  // one line for --help
  std::function<void(io::Schema&)> schema;
  std::function<void(Context&)> run;
  bool pass_options = false;                // accept unknown "-name [value]" options (PETSc) into Context::passthrough
  std::string reference = "docs/decks.md";  // where the deck keys are documented (--help)
  // The outputs this deck's run writes (none: nothing claimed).
  std::function<std::vector<OutputClaim>(const io::Deck&)> outputs = {};
  // Keys this run does not read beyond what the deck's own conditions say, known only from its
  // inputs (tessera-rollout: other families' keys, by the checkpoint's family): left out of the
  // printed resolved deck as the idle keys are. None: nothing more.
  std::function<std::vector<std::string>(const io::Deck&)> idle_keys = {};
};

int run_app(int argc, char** argv, const AppSpec& spec);

}  // namespace tessera::apps
