// Model families: a Family entry names a family, its deck keys, how to build a Learner from a
// deck (model, data, optimiser: one training step, validation, checkpoints) and, where it has
// one, its evaluation job. The registry itself, the one list of families, is train/families/;
// tessera-train and tessera-rollout dispatch through it, and --help and docs/decks.md list every
// family's keys, so adding a family touches neither the apps nor the training loop
// (docs/design.md, "Adding a model family").
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "train/loop.hpp"

namespace spdlog {
class logger;
}
namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train {

// The largest thread count a threads key accepts (far above any node's cores; a count of 100,000
// ran out of memory creating the threads, with std::bad_alloc as the only message).
inline constexpr int64_t kMaxThreads = 1024;

// Sets torch's threads per process from a threads key's value (0: torch's default), logs the
// count, and warns when it exceeds the cores this process may run on (core::threads_warning).
void set_threads(int64_t threads, const std::string& key, spdlog::logger* log);

// A threads key of a family's schema: an Int from `min` to kMaxThreads.
void add_threads_key(io::Schema& s, const std::string& key, const std::string& default_value, const std::string& help,
                     int64_t min = 0);

struct RunContext {
  Comm comm;
  std::shared_ptr<spdlog::logger> log;
};

struct Family {
  std::string name;     // the value of model.family
  std::string summary;  // one line for --help
  // The family's keys of the training deck (added inside Schema::family, so they belong to it).
  std::function<void(io::Schema&)> add_keys;
  // Reads the family's typed options from a validated deck (once) and builds its learner;
  // resumes from train.resume when set.
  std::function<std::unique_ptr<Learner>(const io::Deck&, const RunContext&)> make_learner;
  // Optional: a family whose training is several loops (k-fold cross-validation, a sweep of
  // cases under mpirun) drives run_training itself; when set, tessera-train calls it instead of
  // make_learner + one loop.
  std::function<void(const io::Deck&, const RunContext&)> train;
  // Evaluation of a checkpoint of this family (tessera-rollout), or none. `prepare_evaluation`
  // reads and checks the evaluation deck's options (before any file is opened) and returns the
  // job. Families sharing one evaluation deck give the same add_eval_keys function: its keys are
  // added once and one reader checks the deck.
  void (*add_eval_keys)(io::Schema&) = nullptr;
  std::function<std::function<void(const RunContext&)>(const io::Deck&)> prepare_evaluation;
  // The family's own threads key in the training deck (e.g. pinn.threads) and in the evaluation
  // deck; empty: the shared train.threads and rollout.threads. tessera-train and tessera-rollout set
  // (set_threads) and log the threads from it, and a deck that sets the shared key for a family with
  // its own is warned that it has no effect.
  std::string threads_key, eval_threads_key;
  // Whether the family's evaluation reads rollout.steps (the classifiers and PINNs evaluate once):
  // where not, tessera-rollout's printed deck leaves it out.
  bool eval_reads_steps = true;
  // How a family with its own schedule trains instead of by the shared loop's train.steps,
  // train.validate_every and train.time_limit (a deck that sets those for it is warned); empty:
  // the family reads them.
  std::string own_schedule;
};

// The device a deck names at `key` (train.device, rollout.device), its form checked (no GPU query);
// a bad name fails at the key's deck line.
std::string read_device(const io::Deck& deck, const std::string& key);

// The keys of an evaluation deck (add_evaluation_keys) that only other families' evaluations read,
// where rollout.checkpoint names a checkpoint of one of `families`: what tessera-rollout's
// printed deck leaves out. Empty when the checkpoint cannot be read (its job says why).
std::vector<std::string> other_evaluation_keys(const std::vector<Family>& families, const io::Deck& deck);

struct Checkpoint;

// The training deck stored in checkpoint `c` (read from `path`), parsed with the keys of
// `families`: its relative paths against the training deck's folder (`deck_dir`), the keys of
// other families dropped (decks stored before family keys were separated). Throws naming `path`
// when the checkpoint has none.
io::Deck stored_training_deck(const Checkpoint& c, const std::string& path, const std::vector<Family>& families);

// The start of an evaluation job that runs on the CPU in rank 0 alone (the graph and node
// classifiers, PINN cases): another rollout.device is refused naming `families` ("the gnnpipe family runs"),
// and warnings say that rollout.steps is not read (`once`: what is classified once) and, under
// mpirun, that the other ranks wait (`why`). The deck serves every family's rollout, so these are
// checked once the checkpoint's family is known.
void start_root_evaluation(const std::string& families, const std::string& device, bool steps_given,
                           const std::string& once, const std::string& why, const Comm& comm, spdlog::logger* log,
                           const std::string& one = "classification", const std::string& many = "classifications");

// The family called `name` among `families`; throws an Error (keyed model.family) listing them.
const Family& find_family(const std::vector<Family>& families, const std::string& name);

// A training deck for `families`: model.family (the selector), the keys every family shares
// (train.steps, train.seed, validation and checkpoint periods, time limit, resume, device,
// output.dir) and each family's own keys.
void add_training_keys(io::Schema& schema, const std::vector<Family>& families);
// The shared loop's settings from a training deck.
LoopOptions loop_options(const io::Deck& deck);
// A fresh start (no train.resume, no output.overwrite) does not replace `checkpoint`, an earlier
// run's: refused at output.dir, saying how to resume or replace it.
void refuse_replacing_checkpoint(const io::Deck& deck, const std::string& checkpoint);
// Fails at output.dir when `dir` or a folder directly below it holds another family's checkpoint
// (whatever output.overwrite says: it replaces this family's files, not another run's).
void refuse_other_family_outputs(const io::Deck& deck, const std::string& dir, const std::string& family);
// Builds the deck's family learner and runs the shared loop.
void train_from_deck(const std::vector<Family>& families, const io::Deck& deck, const RunContext& context);

// An evaluation deck: the keys every evaluation has (rollout.checkpoint, rollout.device,
// rollout.steps, output.dir, output.name), then the evaluation keys of every family that has an
// evaluation (they must not redefine those or each other's keys).
// `output_name` gives the defaults of output.dir (out/<name>) and output.name: each app its own,
// so that one app's run does not replace another's files.
void add_evaluation_keys(io::Schema& schema, const std::vector<Family>& families,
                         const std::string& output_name = "rollout");
// Checks the deck, then the family named in the checkpoint (rollout.checkpoint) evaluates it.
void evaluate_from_deck(const std::vector<Family>& families, const io::Deck& deck, const RunContext& context);

}  // namespace tessera::train
