// The mesh simulators' evaluation deck (tessera-rollout): its keys and the typed RolloutOptions
// read from it once (train/mesh_rollout.hpp); run_mesh_rollout (mesh_rollout.cpp) takes only those.
#include <algorithm>
#include <filesystem>
#include <optional>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "linalg/bf16_products.hpp"
#include "train/device.hpp"
#include "train/family.hpp"
#include "train/mesh_rollout.hpp"
#include "train/rollout_output.hpp"

namespace tessera::train {

void add_rollout_keys(io::Schema& s) {
  using io::KeyType;
  s.add("rollout.source", KeyType::Choice, "dataset",
        "dataset: initial state and ground truth from a dataset trajectory; mesh: the `mesh` section and an "
        "initial condition (no ground truth, no error metrics); state: the mesh and one state of a VTU or XDMF "
        "series (rollout.state; no ground truth): a stopped rollout's <output.name>.partial/<output.name>.xmf goes "
        "on from its last state, a solver's series hands its flow to the model")
      .choices = {"dataset", "mesh", "state"};
  s.add("rollout.trajectory", KeyType::Int, "0", "trajectory index in the split").min = 0;
  s.add("rollout.trajectories", KeyType::IntList, "[]",
        "several trajectories of the split instead of rollout.trajectory (source dataset): each is written to "
        "<output.dir>/<output.name>_<id>.*, the per-trajectory and mean metrics to <output.name>_trajectories.csv; "
        "under mpirun they are dealt out to the ranks")
      .min = 0;
  s.add("rollout.batch", KeyType::Bool, "true",
        "with rollout.trajectories: roll a rank's trajectories out together, one forward pass per step for all of "
        "them (the disjoint union of their graphs); false: one after another");
  // No default value: the resolved deck stored with the outputs said 0.01 where the training
  // data's dt was used.
  auto& dt = s.add("rollout.dt", KeyType::Float, "",
                   "time step for output time stamps (source mesh or state); default: the training data's dt where the "
                   "checkpoint stores it, else 0.01");
  dt.min = 0, dt.min_exclusive = true;
  s.add("rollout.precision", KeyType::Choice, "fp32",
        "fp32, or bf16: the model's matrix products in bf16 (weights rounded once, activations per panel, sums and "
        "everything else in fp32), needs AVX512-BF16; twice the products' speed on a Zen 4, slower than fp32 on an "
        "Emerald Rapids Xeon, whose bf16 instruction has half the fp32 FMA's rate (bench_rollout --bf16 prints "
        "the ratio; docs/benchmarks.md); the CPU only")
      .choices = {"fp32", "bf16"};
  s.add("rollout.initial.inflow_speed", KeyType::Float, "1.0", "peak of the parabolic inflow profile (source mesh)");
  s.add("rollout.initial.fill_interior", KeyType::Bool, "true",
        "start interior and outflow nodes with the inflow profile too, instead of at rest (source mesh)");
  io::Schema::input_path(
      s.add("rollout.state.file", KeyType::String, "",
            "the series to start from (source state): a .xmf/.xdmf, a .pvd, a folder of .vtu steps or of one XDMF "
            "series, or one .vtu; its mesh, node types (a node_type field, else inferred from the boundary) and one "
            "step's velocity"));
  s.add("rollout.state.step", KeyType::Int, "-1",
        "the series' step to start from (source state), counted from 0; negative: from the end, -1 the last");
  s.add("rollout.state.velocity", KeyType::String, "",
        "the series' velocity field (source state); empty: velocity, or velocity_pred in a tessera rollout's series");
  s.add("rollout.state.node_types", KeyType::Choice, "auto",
        "node types (source state): field (the series' node_type field), infer (from the boundary: walls at rest in "
        "the state, inflow at the upstream end of x and outflow at the other, upstream by the sign of the "
        "state's summed x velocity), auto (the field where there is one)")
      .choices = {"auto", "field", "infer"};
  io::add_mesh_keys(s);
  s.section("data", "the dataset to take the initial condition and ground truth from");
  io::Schema::input_path(
      s.add("data.dir", KeyType::String, "", "dataset directory; default: the training deck's data.dir"));
  s.add("data.split", KeyType::String, "test", "split to read the trajectory from");
  s.add("output.vtu", KeyType::Bool, "false", "also write one .vtu per step and a .pvd collection");
  s.add("output.every", KeyType::Int, "1",
        "write every this many states to the series (.xmf, and .vtu with output.vtu); the first and the last are "
        "always written, and the metrics, the picture and the wake probe take every state either way")
      .min = 1;
  // What each source does not read: set anyway, a warning (run_app).
  for (const char* k : {"rollout.initial", "mesh"}) s.read_only_when(k, {{"rollout.source", {"mesh"}}});
  s.read_only_when("rollout.dt", {{"rollout.source", {"mesh", "state"}}});
  s.read_only_when("rollout.state", {{"rollout.source", {"state"}}});
  for (const char* k : {"rollout.trajectory", "rollout.batch", "data"})
    s.read_only_when(k, {{"rollout.source", {"dataset"}}});
  // One trajectory, or the list: the other key is idle (an out-of-range rollout.trajectory beside
  // a list ran without a word).
  s.read_only_when("rollout.trajectory", {{"rollout.trajectories", {"[]"}}}, "rollout.trajectories lists them");
  s.read_only_when("rollout.batch", {io::not_one_of("rollout.trajectories", {"[]"})},
                   "one trajectory is rolled out alone");
  io::add_mesh_read_conditions(s);
}

RolloutOptions rollout_options(const io::Deck& d) {
  RolloutOptions o;
  const std::string source = d.get_string("rollout.source");
  o.from_dataset = source == "dataset";
  o.steps = d.get_int("rollout.steps");
  if (!o.from_dataset && o.steps == 0) d.fail("rollout.steps", cat("must be > 0 with rollout.source: ", source));
  if (source == "state") {
    if (!d.has("rollout.state.file"))
      d.fail("rollout.state.file", "is required with rollout.source: state: the series to start from");
    o.state.file = d.resolve_path(d.get_string("rollout.state.file"));
    o.state.step = d.get_int("rollout.state.step");
    if (d.has("rollout.state.velocity")) o.state.velocity = d.get_string("rollout.state.velocity");
    o.state.node_types = d.get_string("rollout.state.node_types");
  }
  o.checkpoint = d.resolve_path(d.get_string("rollout.checkpoint"));
  o.trajectory = d.get_int("rollout.trajectory");
  o.trajectories = d.get_ints("rollout.trajectories");
  if (!o.trajectories.empty() && !o.from_dataset) d.fail("rollout.trajectories", "needs rollout.source: dataset");
  for (size_t i = 0; i < o.trajectories.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (o.trajectories[i] == o.trajectories[j])  // its files and metrics would be written twice
        d.fail("rollout.trajectories", cat("lists trajectory ", o.trajectories[i], " twice"));
  o.batch = d.get_bool("rollout.batch");
  o.device = read_device(d, "rollout.device");
  o.bf16_products = d.get_string("rollout.precision") == "bf16";
  if (o.bf16_products && o.device != "cpu") d.fail("rollout.precision", "bf16 is for rollout.device: cpu");
  if (o.bf16_products && !linalg::bf16_products_available())
    d.fail("rollout.precision", "bf16 needs libxsmm's bf16 kernels and a CPU with AVX512-BF16; this machine has none");
  o.dt_given = d.has("rollout.dt");
  o.dt = o.dt_given ? d.get_float("rollout.dt") : 0.01;
  o.inflow_speed = d.get_float("rollout.initial.inflow_speed");
  o.fill_interior = d.get_bool("rollout.initial.fill_interior");
  if (source == "mesh") o.mesh = io::mesh_options(d);
  if (d.has("data.dir")) o.data_dir = d.resolve_path(d.get_string("data.dir"));
  o.split = d.get_string("data.split");
  o.output_base = d.get_output_dir("output.dir") + "/" + d.get_file_name("output.name");
  if (!o.state.file.empty()) {
    // This run's own files replace a series of its output name (its staging folder at the start;
    // at the end <name>.xmf, .pvd, the .vtu steps, and a list's <name>_<id>.*): the state it goes
    // on from would go with them.
    namespace fs = std::filesystem;
    const auto canonical = [](const std::string& p) {
      std::error_code ec;
      fs::path c = fs::weakly_canonical(p, ec);
      return ec ? fs::absolute(p).lexically_normal() : c;
    };
    const fs::path file = canonical(o.state.file), base = canonical(o.output_base);
    const fs::path dir = base.parent_path();
    const std::string name = base.filename().string();
    const fs::path staging = canonical(RolloutWriter::staging_dir(o.output_base));
    const bool in_staging = file == staging || file.parent_path() == staging;
    bool is_output = false;
    if (file.parent_path() == dir && (file.extension() == ".xmf" || file.extension() == ".pvd")) {
      const std::string stem = file.stem().string();
      const std::string id = stem.size() > name.size() + 1 && stem.compare(0, name.size() + 1, name + "_") == 0
                                 ? stem.substr(name.size() + 1)
                                 : "";
      is_output = stem == name || (!id.empty() && id.find_first_not_of("0123456789") == std::string::npos);
    }
    // The output folder itself, read as a series, is its <name>.pvd or <name>_<k>.vtu steps.
    std::error_code ec;
    if (file == dir && (fs::exists(dir / (name + ".pvd"), ec) || fs::exists(dir / (name + "_0.vtu"), ec)))
      is_output = true;
    if (in_staging || is_output)
      d.fail("rollout.state.file",
             cat("'", o.state.file, "' is ", in_staging ? "in the staging folder" : "a series",
                 " this run writes (output.dir and output.name), which it replaces: write the continued rollout under ",
                 "another output.name"));
  }
  o.vtu = d.get_bool("output.vtu");
  o.every = d.get_int("output.every");
  o.deck_yaml = d.resolved_yaml();
  return o;
}

}  // namespace tessera::train
