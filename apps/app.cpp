#include "apps/app.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"
#include "tessera/config.hpp"

namespace tessera::apps {
namespace {

// MPI lifetime for the process; a no-op without MPI.
struct MpiSession {
  MpiSession(int& argc, char**& argv) {
#if TESSERA_HAVE_MPI
    MPI_Init(&argc, &argv);
#endif
  }
  ~MpiSession() {
#if TESSERA_HAVE_MPI
    MPI_Finalize();
#endif
  }
  [[noreturn]] static void abort_all(int code) {
#if TESSERA_HAVE_MPI
    // The launcher kills every rank at the first abort, and a rank's last lines can be lost in
    // its output forwarding (seen on a loaded machine: no error line at all): give them time.
    std::cerr.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    MPI_Abort(MPI_COMM_WORLD, code);
#endif
    std::exit(code);
  }
};

}  // namespace

int run_app(int argc, char** argv, const AppSpec& spec) {
  MpiSession mpi(argc, argv);
  Comm comm;
  io::Schema schema(spec.name);
  spec.schema(schema);

  CLI::App cli(spec.summary, spec.name);
  std::string deck_path;
  std::vector<std::string> overrides;
  core::LogOptions log_opts;
  bool reference = false;
  cli.add_option("deck", deck_path, "YAML input deck (see decks/ and docs/decks.md)");
  cli.add_option("--set", overrides, "override a deck key: --set key.path=value (repeatable)")->take_all();
  cli.add_option("--log-level", log_opts.level, "trace, debug, info, warn, error or off")->capture_default_str();
  cli.add_option("--log-dir", log_opts.rank_dir, "also write one log file per MPI rank into this directory");
  cli.add_flag("--deck-reference", reference, "print the deck keys as Markdown (for docs/decks.md) and exit");
  cli.footer("\n" + schema.help_text());
  cli.allow_extras();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    return rc;
  }
  if (reference) {
    if (comm.root()) std::cout << schema.markdown();
    return 0;
  }
  std::vector<std::string> passthrough;
  // Pass-through options (PETSc): "-name", optionally followed by one value ("-ksp_type gmres").
  bool after_option = false;
  for (const auto& x : cli.remaining()) {
    if (x.empty()) continue;
    const bool option = x.rfind("-", 0) == 0;
    if (!spec.pass_options || (!option && !after_option)) {
      if (comm.root())
        std::cerr << spec.name << ": error: unexpected " << (option ? "option" : "argument") << " '" << x
                  << "' (see --help)\n";
      return 2;
    }
    passthrough.push_back(x);
    after_option = option;
  }
  if (deck_path.empty()) {
    if (comm.root())
      std::cerr << spec.name << ": error: no deck given; usage: " << spec.name
                << " deck.yaml [--set key=value ...] (see --help)\n";
    return 2;
  }
  std::optional<io::Deck> deck;
  // Deck errors are the same on every rank (each reads the same file): rank 0 alone reports them
  // and every rank exits normally, so under mpirun the user sees one line and no abort banner.
  try {
    deck.emplace(io::Deck::load(deck_path, schema, overrides));
  } catch (const Error& e) {
    if (comm.root()) std::cerr << spec.name << ": error: " << e.what() << "\n";
    return 1;
  }
  try {
    auto log = core::make_logger(spec.name, comm, log_opts);
    log->info("tessera {} on {} rank{}; deck {}", TESSERA_VERSION, comm.size(), comm.size() > 1 ? "s" : "", deck_path);
    log->info("resolved deck:\n{}", deck->resolved_yaml());
    Context ctx{*deck, comm, log, passthrough};
    spec.run(ctx);
  } catch (const Error& e) {
    // An error that library code raised about one setting is located in the deck here.
    const std::string message = !e.key().empty() && deck ? deck->message_at(e.key(), e.what()) : e.what();
    std::cerr << spec.name << ": error: " << (comm.size() > 1 ? cat("[rank ", comm.rank(), "] ") : "") << message
              << "\n";
    if (comm.size() > 1) MpiSession::abort_all(1);
    return 1;
  } catch (const std::exception& e) {
    std::cerr << spec.name << ": internal error: " << e.what() << "\n";
    if (comm.size() > 1) MpiSession::abort_all(3);
    return 3;
  }
  return 0;
}

}  // namespace tessera::apps
