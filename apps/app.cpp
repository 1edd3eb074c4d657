#include "apps/app.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "apps/output_claims.hpp"
#include "core/atomic_file.hpp"
#include "core/build_info.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/failure.hpp"
#include "core/gather.hpp"
#include "core/log.hpp"
#include "core/memory.hpp"
#include "core/on_root.hpp"
#include "core/output_claim.hpp"
#include "core/stop_request.hpp"
#include "io/deck_difference.hpp"
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

#if TESSERA_HAVE_MPI
// The agreement's barrier (non-blocking: MPI matches a non-blocking collective only with its
// kind), waited for with pauses, since rank 0 may need the core to finish writing. False when
// `seconds` (if positive) passed first: the request then dies with the job.
bool agreement_barrier(const Comm& agreement, double seconds) {
  MPI_Request request;
  MPI_Ibarrier(agreement.mpi(), &request);
  return wait_with_pauses(request, seconds);
}
#endif

// After an error on this rank: whether every rank left the run within `seconds`, by an error (the
// same error everywhere, such as a bad checkpoint, data path or PETSc option found after the
// deck) or by finishing it (an output file that rank 0 alone writes at the end). Then the error
// is reported once and every rank exits normally, as for deck errors; otherwise the other ranks
// are still working or wait in a collective for this one, and the job must be aborted. A
// barrier on a communicator of its own (`agreement`, duplicated before the run), so it cannot be
// matched with a collective that the application left unfinished; ranks that finish the run
// take part in it too (every_rank_done).
bool every_rank_left([[maybe_unused]] const Comm& agreement, [[maybe_unused]] double seconds) {
#if TESSERA_HAVE_MPI
  return agreement.size() == 1 || agreement_barrier(agreement, seconds);
#else
  return true;
#endif
}

// Seconds the ranks get to reach their error handlers: enough for ranks that fail on the same
// input at slightly different times, short against a run.
constexpr double kAgreementSeconds = 3.0;

// "" where this rank's resolved deck is rank 0's; otherwise which setting differs. Collective.
// Ranks given different --set values (mpirun's colon form, a job script) or reading a deck that
// was edited while the job started ran different work, then waited for each other in a
// collective until the job's time ran out. Input paths (Schema::input_path) may differ: each
// rank may read its own copy of the data (a node-local one). Their contents must agree; of that,
// only a resumed step is checked (train::run_training).
std::string deck_difference([[maybe_unused]] const Comm& comm, [[maybe_unused]] const std::string& mine,
                            [[maybe_unused]] const io::Schema& schema) {
#if TESSERA_HAVE_MPI
  if (comm.size() == 1) return "";
  int64_t length = static_cast<int64_t>(mine.size());
  MPI_Bcast(&length, 1, MPI_INT64_T, 0, comm.mpi());
  std::string root = comm.root() ? mine : std::string(static_cast<size_t>(length), '\0');
  MPI_Bcast(root.data(), static_cast<int>(length), MPI_CHAR, 0, comm.mpi());
  if (root == mine) return "";
  std::vector<std::string> input_paths;
  for (const io::KeySpec& k : schema.keys())
    if (k.input_path) input_paths.push_back(k.path);
  const auto d = io::first_deck_difference(root, mine, {}, input_paths, /*absent_differs=*/true);
  if (!d) return "";  // input paths alone differ
  return cat("this rank's deck differs from rank 0's at ", d->key, ": ", d->now, " here, ", d->stored,
             " on rank 0 (every rank must read the same deck file with the same --set values; only input paths may "
             "differ)");
#else
  return "";
#endif
}

// Rank 0 prints every rank's failure ("kind" and "message"; both empty for a rank that did not
// fail), each distinct one once: untagged when rank 0 has it (every rank alike, or rank 0 alone),
// otherwise tagged with the ranks that have it. Collective on `comm`, once every rank is past the
// work that failed (a deck read, or the run: every_rank_left, every_rank_done).
void print_failures(const Comm& comm, const std::string& app, const std::string& kind, const std::string& message) {
  const std::string mine = kind.empty() ? "" : kind + '\0' + message;
  const int64_t length = static_cast<int64_t>(mine.size());
  const std::vector<char> lengths = gather_to_root(comm, &length, sizeof length);
  const std::vector<char> text = gather_to_root(comm, mine.data(), length);
  if (!comm.root()) return;
  std::vector<std::string> failure(comm.size());
  for (size_t r = 0, at = 0; r < failure.size(); ++r) {
    int64_t n = 0;
    std::memcpy(&n, lengths.data() + r * sizeof n, sizeof n);
    failure[r].assign(text.data() + at, static_cast<size_t>(n));
    at += static_cast<size_t>(n);
  }
  for (size_t r = 0; r < failure.size(); ++r) {
    if (failure[r].empty() || std::find(failure.begin(), failure.begin() + r, failure[r]) != failure.begin() + r)
      continue;  // no failure, or one printed already
    std::string ranks;
    for (size_t q = r; q < failure.size() && r > 0; ++q)
      if (failure[q] == failure[r]) ranks += cat(ranks.empty() ? "" : ", ", q);
    const size_t split = failure[r].find('\0');
    std::cerr << app << ": " << failure[r].substr(0, split) << ": "
              << (ranks.empty() ? "" : cat(ranks.find(',') == std::string::npos ? "[rank " : "[ranks ", ranks, "] "))
              << failure[r].substr(split + 1) << "\n";
  }
}

// Whether some rank has an `error` ("" where it has none) before the run starts (reading the deck,
// agreeing on it, claiming the outputs): the ranks agree on it, and rank 0 prints each distinct one
// (print_failures), so that every rank then leaves alike. Collective.
bool failed_on_some_rank(const Comm& comm, const std::string& app, const std::string& error) {
  int64_t failed = error.empty() ? 0 : 1;
  comm.allreduce_max(&failed, 1);
  if (failed) print_failures(comm, app, error.empty() ? "" : "error", error);
  return failed != 0;
}

// After the run finished on this rank: its side of every_rank_left's barrier, waiting for every
// rank to finish or fail (a rank that fails in a collective leaves the others waiting there, and
// its abort ends them), then its part in print_failures.
void every_rank_done([[maybe_unused]] const Comm& agreement, [[maybe_unused]] const std::string& app) {
#if TESSERA_HAVE_MPI
  if (agreement.size() == 1) return;
  agreement_barrier(agreement, 0);
  print_failures(agreement, app, "", "");
#endif
}

}  // namespace

int run_app(int argc, char** argv, const AppSpec& spec) {
  MpiSession mpi(argc, argv);
  Comm comm;
  io::Schema schema(spec.name);
  // A schema that cannot be built (a key defined twice, e.g. by a model family of one's own) is the
  // app's internal error, said once (it escaped run_app: terminate, and an MPI abort banner).
  try {
    spec.schema(schema);
  } catch (const std::exception& e) {
    if (comm.root()) std::cerr << spec.name << ": internal error: the app's deck keys: " << e.what() << "\n";
    return 3;
  }

  CLI::App cli(spec.summary, spec.name);
  std::string deck_path;
  std::vector<std::string> overrides;
  core::LogOptions log_opts;
  bool reference = false;
  // tessera's example decks are its own apps' (a program built against the package has none).
  cli.add_option("deck", deck_path,
                 // Needed for a run; optional to CLI11 only for --help and --deck-reference (it read as
                 // optional, and a run of --set alone stopped at "no deck given").
                 spec.name.rfind("tessera-", 0) == 0
                     ? cat("YAML input deck, required to run (see decks/ and ", spec.reference, ")")
                     : cat("YAML input deck, required to run (see ", spec.reference, ")"));
  // One value per --set, so that a deck after it ("--set a=1 deck.yaml") stays the deck.
  cli.add_option("--set", overrides, "override a deck key: --set key.path=value (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  cli.add_option("--log-level", log_opts.level, "trace, debug, info, warn, error or off")->capture_default_str();
  cli.add_option("--log-dir", log_opts.rank_dir,
                 "also write one log file per MPI rank into this directory (<app>.rank<r>.log)");
  cli.add_flag("--deck-reference", reference,
               cat("print the deck keys as Markdown (for ", spec.reference, ") and exit"));
  cli.footer("\n" + schema.help_text() +
             (spec.pass_options
                  ? "\nOptions with one dash (-ksp_type gmres, -ksp_monitor) go to PETSc, after the deck's "
                    "solver.petsc_options; options nothing used are named at the end of the run.\n"
                  : ""));
  cli.allow_extras();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is 0; every usage error is 2, as for the apps' own (CLI11's codes run past 100).
    return cli.exit(e) == 0 ? 0 : 2;
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
    // PETSc's options have one dash; two dashes, or one of tessera's own flags with one dash
    // (-set key=value), is a mistyped tessera option that PETSc would silently ignore.
    const std::string name = x.substr(0, x.find('='));
    if (option && spec.pass_options &&
        (x.rfind("--", 0) == 0 || name == "-set" || name == "-log-level" || name == "-log-dir" ||
         name == "-deck-reference")) {
      if (comm.root())
        std::cerr
            << spec.name << ": error: unknown option '" << x
            << "' (tessera's options: --set, --log-level, --log-dir, --deck-reference, --help; PETSc options have "
               "one dash)\n";
      return 2;
    }
    if (!spec.pass_options || (!option && !after_option)) {
      if (comm.root())
        std::cerr << spec.name << ": error: unexpected " << (option ? "option" : "argument") << " '" << x
                  << "' (see --help)\n";
      return 2;
    }
    passthrough.push_back(x);
    after_option = option;
  }
  // A PETSc "-<prefix>_type" option without its value (last, or before another option): PETSc
  // reads it as an unknown type and says "Unknown type. Check for miss-spelling or missing
  // package" after the mesh and setup.
  for (size_t i = 0; i < passthrough.size(); ++i) {
    const std::string& x = passthrough[i];
    const bool type_option = x.size() > 5 && x.rfind("-", 0) == 0 && x.compare(x.size() - 5, 5, "_type") == 0;
    if (type_option && (i + 1 == passthrough.size() || passthrough[i + 1].rfind("-", 0) == 0)) {
      if (comm.root())
        std::cerr << spec.name << ": error: PETSc option '" << x
                  << "' needs a value, the type's name (e.g. -pc_type lu, -ksp_type gmres)\n";
      return 2;
    }
  }
  if (deck_path.empty()) {
    if (comm.root())
      std::cerr << spec.name << ": error: no deck given; usage: " << spec.name
                << " deck.yaml [--set key=value ...] (see --help)\n";
    return 2;
  }
  std::optional<io::Deck> deck;
  // Deck errors are the same on every rank (each reads the same file): rank 0 alone reports them
  // and every rank exits normally, so under mpirun the user sees one line and no abort banner. The
  // ranks agree on it: a deck that some ranks cannot read (a node-local path, a file being
  // rewritten) would otherwise leave the others waiting for them in the run.
  std::string deck_error;
  try {
    deck.emplace(io::Deck::load(deck_path, schema, overrides));
  } catch (const Error& e) {
    deck_error = e.what();
  }
  if (failed_on_some_rank(comm, spec.name, deck_error)) return deck_error.empty() ? 0 : 1;
  if (failed_on_some_rank(comm, spec.name, deck_difference(comm, deck->resolved_yaml(), schema))) return 1;
  deck->set_provenance(core::provenance_comment(comm.size()));
  // Rank 0 claims the run's output files for the run (core/output_claim.hpp): a second run
  // writing the same files stops here, before any work, naming the first.
  core::OutputClaims claims;
  std::vector<std::string> claim_notes;  // warnings for the log
  if (failed_on_some_rank(comm, spec.name,
                          comm.root() && spec.outputs ? claim_outputs(*deck, spec, claims, claim_notes) : ""))
    return 1;
#if TESSERA_HAVE_MPI
  MPI_Comm agreement_comm = MPI_COMM_NULL;
  MPI_Comm_dup(MPI_COMM_WORLD, &agreement_comm);
  const Comm agreement(agreement_comm);
  // Ranks on one machine share its memory: the size checks (core::memory_share_bytes) give each
  // its share.
  MPI_Comm machine = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &machine);
  int on_machine = 1;
  MPI_Comm_size(machine, &on_machine);
  MPI_Comm_free(&machine);
  core::set_processes_on_this_machine(on_machine);
#else
  const Comm agreement;
#endif
  // Reports an error once, when every rank has left the run: by rank 0, each distinct failure once
  // (print_failures). Otherwise (ranks still in the run) from this rank, tagged, and then the job
  // is aborted. Returns the exit code.
  auto report = [&](const std::string& kind, const std::string& message, int code) {
    const bool left = every_rank_left(agreement, kAgreementSeconds);
    if (!left) {
      std::cerr << spec.name << ": " << kind << ": " << (comm.size() > 1 ? cat("[rank ", comm.rank(), "] ") : "")
                << message << "\n";
      MpiSession::abort_all(code);
    }
    print_failures(agreement, spec.name, kind, message);
    core::quiet_interrupts();  // reported: mpirun may end this rank before it exits
    return code;
  };
  // Ctrl-C or a batch system's SIGTERM: the run's unfinished <name>.tmp files go with it.
  core::remove_temporaries_on_interrupt(spec.name, comm.rank(), comm.size());
  // A batch system's warning before its time limit: training stops at its next step with a
  // checkpoint (core/stop_request.hpp).
  core::stop_on_signal(SIGUSR1);
  // A file-size limit (ulimit -f) makes a write fail with "File too large", which the writers
  // report as one error and clean up after; by default SIGXFSZ killed the app, leaving its .tmp.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    auto log = core::make_logger(spec.name, comm, log_opts);
    log->info("tessera {} (git {}) on {}; deck {}", TESSERA_VERSION, core::git_commit(),
              core::counted(comm.size(), "rank", "ranks"), deck_path);
    // The keys this run reads (what the other settings leave idle would only mislead: csbm sizes
    // for a planetoid graph, pipeline stages in graph mode); output files store every key.
    size_t idle = 0;
    // Only rank 0's log prints it: the other ranks need not read a checkpoint for it.
    const std::string read =
        deck->read_yaml(&idle, spec.idle_keys && comm.root() ? spec.idle_keys(*deck) : std::vector<std::string>{});
    log->info("resolved deck{}:\n{}",
              idle ? cat(" (", core::counted(idle, "key", "keys"), " left out: idle with these settings)") : "", read);
    for (const std::string& unread : deck->unread_given_keys()) log->warn("{}", unread);
    for (const std::string& note : claim_notes) log->warn("{}", note);
    Context ctx{*deck, comm, log, passthrough};
    spec.run(ctx);
    every_rank_done(agreement, spec.name);  // a rank that failed waits for this one to leave the run
  } catch (...) {
    // One line, as core::describe_failure words it (the other ranks' copies of an error use the
    // same words); an error about one setting is located in the deck here.
    core::Failure f = core::describe_failure(std::current_exception());
    // Out of memory: the integers this deck raised most likely hold the size that was too large.
    if (f.message.rfind("out of memory", 0) == 0 && deck)
      if (const auto raised = deck->raised_integer_keys(3); !raised.empty()) {
        std::string list;
        for (const std::string& r : raised) list += cat(list.empty() ? "" : ", ", r);
        f.message += cat("; the integer settings this deck raises most above their defaults: ", list);
      }
    return report(f.kind, !f.key.empty() && deck ? deck->message_at(f.key, f.message) : f.message, f.exit_code);
  }
  return 0;
}

}  // namespace tessera::apps
