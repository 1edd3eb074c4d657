#include "train/family.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <system_error>

#include "core/cores.hpp"
#include "core/error.hpp"
#include "core/idle_ranks.hpp"
#include "core/log.hpp"
#include "core/on_root.hpp"
#include "io/deck.hpp"
#include "io/h5.hpp"
#include "io/schema.hpp"
#include "train/checkpoint.hpp"
#include "train/device.hpp"

namespace tessera::train {

std::string read_device(const io::Deck& d, const std::string& key) {
  const std::string device = d.get_string(key);
  try {
    check_device_name(device);
  } catch (const Error& e) {
    d.fail(key, e.what());
  }
  return device;
}

const Family& find_family(const std::vector<Family>& families, const std::string& name) {
  std::string names;
  for (const Family& f : families) {
    if (f.name == name) return f;
    names += (names.empty() ? "" : ", ") + f.name;
  }
  throw Error(cat("unknown model family '", name, "' (registered: ", names, ")"), "model.family");
}

void add_threads_key(io::Schema& s, const std::string& key, const std::string& default_value, const std::string& help,
                     int64_t min) {
  io::KeySpec& threads = s.add(key, io::KeyType::Int, default_value, help);
  threads.min = static_cast<double>(min), threads.max = static_cast<double>(kMaxThreads);
}

namespace {

constexpr const char* kThreadsKeyHelp =
    "CPU threads of each process for tensor work (torch's intra-op threads); 0: torch's default (OMP_NUM_THREADS, "
    "else one per core). Under mpirun, give each rank its share of the cores";

// `keys` are read only for the families whose `own` setting is empty (a family with its own threads
// key or schedule does not read the shared ones): a condition on model.family, whose reason lists
// the others' settings after `why`, each once, separated by `sep`.
void read_only_without_own(io::Schema& s, const std::vector<Family>& families, std::string Family::*own,
                           const std::vector<std::string>& keys, const std::string& why, const std::string& sep) {
  std::vector<std::string> readers;
  std::string others;
  for (const Family& f : families)
    if ((f.*own).empty())
      readers.push_back(f.name);
    else if (others.find(f.*own) == std::string::npos)
      others += cat(others.empty() ? "" : sep, f.*own);
  if (others.empty() || readers.empty()) return;
  for (const std::string& k : keys) s.read_only_when(k, {{"model.family", readers}}, why + others);
}

}  // namespace

void set_threads(int64_t threads, const std::string& key, spdlog::logger* log) {
  if (threads > 0) at::set_num_threads(static_cast<int>(threads));
  core::log_info(log, cat("threads: ", at::get_num_threads(), " per process"));
  // torch's default under mpirun is 1 thread, also where the rank was given several cores
  // (mpirun --map-by slot:PE=4, Slurm's --cpus-per-task): a run on a quarter of its cores. Not
  // where OMP_NUM_THREADS chose the number, nor where torch's default is more than 1 (it counts
  // physical cores; the share counts logical CPUs, two per core with SMT).
  if (const int share = core::cores_share();
      threads == 0 && !std::getenv("OMP_NUM_THREADS") && at::get_num_threads() == 1 && share > 1)
    core::log_warn(log, cat("threads: ", at::get_num_threads(), " per process (", key,
                            ": 0, torch's default), but this process may use ", share, " cores: set ", key, " to ",
                            share, " (or OMP_NUM_THREADS) to use them"));
  if (const std::string w = core::threads_warning(at::get_num_threads(), key); !w.empty()) core::log_warn(log, w);
}

void check_family_registry(const std::vector<Family>& families) {
  // A programming error of whoever registers the families, said by name before any deck is read
  // (a duplicate name made the second entry unreachable and filed its keys under the first; a
  // missing callback was "internal error: bad_function_call" after the deck was printed).
  if (families.empty()) throw Error("family registry: no model family is registered");
  for (size_t i = 0; i < families.size(); ++i) {
    const Family& f = families[i];
    if (f.name.empty() || f.name.find_first_of(" .") != std::string::npos)
      throw Error(cat("family registry: entry ", i, " has the name '", f.name,
                      "'; expected a non-empty word (the value of model.family)"));
    for (size_t j = 0; j < i; ++j)
      if (families[j].name == f.name)
        throw Error(cat("family registry: the name '", f.name, "' is registered twice (entries ", j, " and ", i, ")"));
    if (!f.train && !f.make_learner)
      throw Error(cat("family registry: family ", f.name, " has neither make_learner nor train"));
    if (f.add_eval_keys && !f.prepare_evaluation)
      throw Error(cat("family registry: family ", f.name, " has add_eval_keys but no prepare_evaluation"));
  }
}

void add_training_keys(io::Schema& s, const std::vector<Family>& families) {
  using io::KeyType;
  check_family_registry(families);
  s.section("model", "the model family and its size");
  std::string doc;
  std::vector<std::string> names;
  for (const Family& f : families) {
    names.push_back(f.name);
    doc += (doc.empty() ? "" : "; ") + f.name + ": " + f.summary;
  }
  s.add("model.family", KeyType::Choice, names.front(), doc).choices = names;
  s.set_selector("model.family");
  s.section("train", "optimisation, validation and checkpoints");
  s.add("train.steps", KeyType::Int, "1000", "optimiser steps in total (a resumed run continues to this)").min = 1;
  s.add("train.seed", KeyType::Int, "0", "seed of parameter init, sampling and noise").min = 0;
  s.add("train.validate_every", KeyType::Int, "0", "steps between validations; 0: end only").min = 0;
  s.add("train.time_limit", KeyType::Float, "0",
        "minutes of training in this run; training stops at the limit or at train.steps, and a warm-up + cosine "
        "learning-rate decay (mesh simulators, stagger) follows the time used after warm-up or the steps, whichever is "
        "further along (not bit-reproducible; for comparisons at equal time); a resumed run continues the decay from "
        "its checkpoint's position, over its own limit or, without one, from where the step count reaches it; 0: off")
      .min = 0;
  s.add("train.checkpoint_every", KeyType::Int, "0", "steps between checkpoints; 0: end only").min = 0;
  io::Schema::input_path(
      s.add("train.resume", KeyType::String, "",
            "checkpoint to resume from (continues its step count; output.dir's metrics.csv and loss.csv go on "
            "from the rows beside it, up to its step)"));
  s.add("train.device", KeyType::String, "cpu", kDeviceKeyHelp);
  add_threads_key(s, "train.threads", "0", kThreadsKeyHelp);
  s.section("output", "where checkpoints and training metrics go");
  s.add("output.dir", KeyType::String, "out/train",
        "output directory (relative to the working directory): checkpoint.h5 and checkpoint.pt (its parameters for "
        "PyTorch), loss.csv (every step's loss), metrics.csv and training.png (where the family validates); "
        "GNNPipe adds selected.pt (the weights of the lowest validation loss), the PINN, SPEN and NeuralStagger "
        "families their own files (docs/gnnpipe.md, docs/pinn.md, docs/spen.md, docs/neuralstagger.md)");
  s.add("output.overwrite", KeyType::Bool, "false",
        "start afresh even if output.dir holds a checkpoint.h5 of an earlier run (otherwise that is an error: "
        "resume it with train.resume, or choose another output.dir); a pinn study: every case starts afresh instead "
        "of resuming from its folder");
  for (const Family& f : families) {
    s.family(
        f.name, f.add_keys ? f.add_keys : [](io::Schema&) {});  // a family may have no keys of its own
    if (!f.threads_key.empty() && !s.find(f.threads_key))
      throw Error(cat("family registry: family ", f.name, "'s threads_key ", f.threads_key,
                      " is not one of its keys (declare it in add_keys, e.g. with add_threads_key)"));
  }
  read_only_without_own(s, families, &Family::threads_key, {"train.threads"},
                        "the other families' threads are set by their own key: ", ", ");
  read_only_without_own(s, families, &Family::own_schedule, {"train.steps", "train.validate_every", "train.time_limit"},
                        "", "; ");
  s.read_only_when("output.overwrite", {{"train.resume", {""}}}, "the run continues train.resume");
}

LoopOptions loop_options(const io::Deck& d) {
  LoopOptions o;
  o.steps = d.get_int("train.steps");
  o.validate_every = d.get_int("train.validate_every");
  o.checkpoint_every = d.get_int("train.checkpoint_every");
  o.time_limit_minutes = d.get_float("train.time_limit");
  o.output_dir = d.get_output_dir("output.dir");
  if (d.has("train.resume")) o.resumed_from = d.resolve_path(d.get_string("train.resume"));
  return o;
}

void refuse_replacing_checkpoint(const io::Deck& d, const std::string& checkpoint) {
  if (!d.has("train.resume") && !d.get_bool("output.overwrite") && std::filesystem::exists(checkpoint))
    // The path to resume from is absolute: it works from --set and in the deck file alike (a deck
    // file's input paths are relative to the deck's folder, output.dir to the working directory).
    d.fail("output.dir", cat(checkpoint, " exists from an earlier run: resume it with --set train.resume=",
                             std::filesystem::absolute(checkpoint).lexically_normal().string(),
                             ", start afresh with --set output.overwrite=true, or choose another output.dir"));
}

namespace {

// The checkpoints in `dir` and in the folders directly below it (a cross-validation's fold_<k>, a
// PINN study's cases): where a training run of any family keeps them.
std::vector<std::filesystem::path> checkpoints_in(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> found;
  std::error_code ec;
  if (fs::is_regular_file(fs::path(dir) / "checkpoint.h5", ec)) found.push_back(fs::path(dir) / "checkpoint.h5");
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && fs::is_regular_file(it->path() / "checkpoint.h5", ec))
      found.push_back(it->path() / "checkpoint.h5");
  std::sort(found.begin(), found.end());
  return found;
}

// A checkpoint's family attribute read alone (not its tensors); "" for a file that is not a
// tessera checkpoint or is damaged, which the family's own load names.
std::string family_attribute(const std::string& path) {
  try {
    return io::H5File::open_read(path).read_attr("/", "family");
  } catch (const Error&) {
    return "";
  }
}

}  // namespace

void refuse_other_family_outputs(const io::Deck& d, const std::string& dir, const std::string& family) {
  for (const auto& path : checkpoints_in(dir)) {
    const std::string other = family_attribute(path.string());
    // output.overwrite replaces this family's files only: the other run's would stay beside them
    // (a GNNPipe run into a SPEN run's folder wrote its checkpoint beside the SPEN folds).
    if (!other.empty() && other != family)
      d.fail("output.dir", cat(path.string(), " is a ", other, " run's checkpoint: a ", family,
                               " run there would mix its files with that run's (output.overwrite replaces only a ",
                               family, " run's files); choose another output.dir, or remove that run's folder"));
  }
}

void train_from_deck(const std::vector<Family>& families, const io::Deck& d, const RunContext& ctx) {
  const LoopOptions loop = loop_options(d);
  const Family& family = find_family(families, d.get_string("model.family"));
  const std::string threads_key = family.threads_key.empty() ? "train.threads" : family.threads_key;
  set_threads(d.get_int(threads_key), threads_key, ctx.log.get());
  // Checked by every rank (a folder that differs between nodes is every rank's error, not one
  // rank's while the others wait in the run's first collective).
  const std::string checkpoint = loop.output_dir + "/checkpoint.h5";
  run_on_every_rank(ctx.comm, [&] {
    // A finished or interrupted run's checkpoint is not replaced by a fresh start unless asked.
    refuse_replacing_checkpoint(d, checkpoint);
    // A checkpoint to resume that is not there: said now, not after the data is loaded (minutes
    // on a large dataset, and the warnings of the loading first; a review found it, 2026-12-07).
    if (const std::string& resumed = loop.resumed_from; !resumed.empty()) {  // train.resume, resolved
      std::error_code ec;
      if (!std::filesystem::is_regular_file(resumed, ec))
        d.fail("train.resume", cat(resumed, std::filesystem::exists(resumed, ec) ? ": not a file" : ": file not found",
                                   " (tessera-train writes its checkpoint as <output.dir>/checkpoint.h5, or in a "
                                   "fold's or case's folder below it)"));
      // A resume writes its checkpoints and metrics into output.dir: another run's would be
      // replaced and its metrics.csv continued with this run's rows (it happened without a word).
      if (std::filesystem::exists(checkpoint) && !std::filesystem::equivalent(checkpoint, resumed, ec))
        d.fail("output.dir", cat(checkpoint, " is another run's checkpoint than train.resume (", resumed,
                                 "): a resumed run writes its checkpoints and metrics into output.dir; choose another "
                                 "output.dir"));
    }
    // Another family's checkpoint, for every family (an own family's learner compared no family,
    // and failed later on its tensors: "holds 262 parameter tensors, the deck's model has 4").
    if (const std::string& resumed = loop.resumed_from; !resumed.empty())
      if (const std::string stored = family_attribute(resumed); !stored.empty() && stored != family.name)
        d.fail("train.resume", cat(resumed, ": checkpoint of a '", stored, "' model, the deck builds a '", family.name,
                                   "' (model.family)"));
    refuse_other_family_outputs(d, loop.output_dir, family.name);
  });
  if (family.train) return family.train(d, ctx);
  std::unique_ptr<Learner> learner = family.make_learner(d, ctx);
  run_training(*learner, loop, ctx.comm, ctx.log);
}

void add_evaluation_keys(io::Schema& s, const std::vector<Family>& families, const std::string& output_name) {
  using io::KeyType;
  // The keys every evaluation deck has; each family group adds its own after them.
  s.section("rollout", "which checkpoint to evaluate, where, for how long");
  io::Schema::input_path(s.required("rollout.checkpoint", KeyType::String, "checkpoint written by tessera-train"));
  s.add("rollout.device", KeyType::String, "cpu", kDeviceKeyHelp);
  add_threads_key(s, "rollout.threads", "0", kThreadsKeyHelp);
  // Without families (tessera-hybrid, one dataset trajectory) the families' cases do not arise.
  s.add("rollout.steps", KeyType::Int, "0",
        families.empty() ? "steps to run; 0: the whole trajectory"
                         : "steps to predict; 0: the whole trajectory (mesh simulators with rollout.source mesh or "
                           "state: required > 0, the steps after the initial state; NeuralStagger, which starts from "
                           "random states: 50)")
      .min = 0;
  s.section("output", "evaluation files");
  s.add("output.dir", KeyType::String, "out/" + output_name, "output directory (relative to the working directory)");
  s.add("output.name", KeyType::String, output_name, "base name of the output files");
  std::vector<void (*)(io::Schema&)> added;
  for (const Family& f : families)
    if (f.add_eval_keys && std::find(added.begin(), added.end(), f.add_eval_keys) == added.end()) {
      f.add_eval_keys(s);
      added.push_back(f.add_eval_keys);
    }
}

namespace {

// Calls `visit(key, f)` for every key of the evaluation deck that `chosen`'s evaluation does not
// read, with `f` a family whose evaluation keys declare it (a key group shared by several
// families is visited once for each).
void for_other_evaluation_keys(const std::vector<Family>& families, const Family& chosen,
                               const std::function<void(const io::KeySpec&, const Family&)>& visit) {
  io::Schema own("own");
  chosen.add_eval_keys(own);
  for (const Family& f : families) {
    if (!f.add_eval_keys || f.add_eval_keys == chosen.add_eval_keys) continue;
    io::Schema other("other");
    f.add_eval_keys(other);
    for (const io::KeySpec& k : other.keys())
      if (!own.find(k.path)) visit(k, f);
  }
}

// The evaluation deck holds every family's keys, since the family comes from the checkpoint:
// a key that only another family's evaluation reads would be ignored without a word, although
// whoever set it expects an effect.
void refuse_other_evaluation_keys(const std::vector<Family>& families, const Family& chosen, const io::Deck& d,
                                  const std::string& checkpoint) {
  for_other_evaluation_keys(families, chosen, [&](const io::KeySpec& k, const Family& f) {
    if (!d.given(k.path)) return;
    std::string readers;  // the families whose checkpoints this key group evaluates
    for (const Family& g : families)
      if (g.add_eval_keys == f.add_eval_keys) readers += cat(readers.empty() ? "" : ", ", g.name);
    d.fail(k.path, cat("is read only by rollouts of ", readers, " checkpoints, and ", checkpoint, " is a '",
                       chosen.name, "' checkpoint"));
  });
}

}  // namespace

io::Deck stored_training_deck(const Checkpoint& c, const std::string& path, const std::vector<Family>& families) {
  const auto deck = c.attributes.find("deck");
  if (deck == c.attributes.end() || deck->second.empty()) throw Error(cat(path, ": checkpoint has no stored deck"));
  io::Schema schema("tessera-train");
  add_training_keys(schema, families);
  io::ParseOptions stored;
  stored.drop_other_families = true;
  if (const auto dir = c.attributes.find("deck_dir"); dir != c.attributes.end()) stored.base_dir = dir->second;
  return io::Deck::parse(deck->second, path + " (stored deck)", schema, {}, stored);
}

void start_root_evaluation(const std::string& families, const std::string& device, bool steps_given,
                           const std::string& once, const std::string& why, const Comm& comm, spdlog::logger* log,
                           const std::string& one, const std::string& many) {
  if (device != "cpu") throw Error(cat(families, " on the CPU only (cpu), not ", device), "rollout.device");
  if (steps_given) core::log_warn(log, cat("rollout.steps is not read here (", once, "): it has no effect"));
  if (comm.size() > 1) core::log_warn(log, core::idle_ranks_warning(comm.size(), 1, one, many, why));
}

std::vector<std::string> other_evaluation_keys(const std::vector<Family>& families, const io::Deck& d) {
  std::string name;
  try {
    name = checkpoint_family(d.resolve_path(d.get_string("rollout.checkpoint")));
  } catch (...) {
    return {};
  }
  const auto chosen = std::find_if(families.begin(), families.end(), [&](const Family& f) { return f.name == name; });
  if (chosen == families.end() || !chosen->add_eval_keys) return {};
  std::vector<std::string> keys;
  for_other_evaluation_keys(families, *chosen, [&](const io::KeySpec& k, const Family&) {
    if (std::find(keys.begin(), keys.end(), k.path) == keys.end()) keys.push_back(k.path);
  });
  if (!chosen->eval_reads_steps) keys.push_back("rollout.steps");
  // A family with its own threads key (stagger.threads) does not read the shared one.
  if (!chosen->eval_threads_key.empty() && chosen->eval_threads_key != "rollout.threads")
    keys.push_back("rollout.threads");
  return keys;
}

void evaluate_from_deck(const std::vector<Family>& families, const io::Deck& d, const RunContext& ctx) {
  // Every evaluation deck reader checks the deck first, so deck errors come before file errors.
  std::map<void (*)(io::Schema&), std::function<void(const RunContext&)>> jobs;
  for (const Family& f : families)
    if (f.add_eval_keys && !jobs.count(f.add_eval_keys)) jobs[f.add_eval_keys] = f.prepare_evaluation(d);
  const std::string path = d.resolve_path(d.get_string("rollout.checkpoint"));
  std::string name;
  // Every rank reads it: a checkpoint one rank cannot read is every rank's error.
  run_on_every_rank(ctx.comm, [&] { name = with_key("rollout.checkpoint", [&] { return checkpoint_family(path); }); });
  for (const Family& f : families)
    if (f.name == name) {
      if (!f.add_eval_keys) d.fail("rollout.checkpoint", cat(path, ": family '", name, "' has no rollout"));
      refuse_other_evaluation_keys(families, f, d, path);
      const std::string threads_key = f.eval_threads_key.empty() ? "rollout.threads" : f.eval_threads_key;
      // The family is known only now, from the checkpoint: the deck could not say it (read_only_when).
      if (threads_key != "rollout.threads" && d.given("rollout.threads"))
        core::log_warn(ctx.log.get(), cat("rollout.threads is not read for a '", name, "' checkpoint (", threads_key,
                                          " sets its threads): it has no effect"));
      set_threads(d.get_int(threads_key), threads_key, ctx.log.get());
      return jobs.at(f.add_eval_keys)(ctx);
    }
  d.fail("rollout.checkpoint", cat(path, ": a checkpoint of family '", name, "', which is not registered"));
}

}  // namespace tessera::train
