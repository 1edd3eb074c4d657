#include "train/mesh_sim_family.hpp"

#include "io/deck.hpp"
#include "train/mesh_rollout.hpp"
#include "train/mesh_sim_options.hpp"
#include "train/trainer.hpp"

namespace tessera::train {
namespace {

Family mesh_sim_family(const std::string& name, const std::string& summary) {
  Family f;
  f.name = name;
  f.summary = summary;
  f.add_keys = [name](io::Schema& s) { add_mesh_sim_keys(s, name); };
  f.make_learner = [](const io::Deck& d, const RunContext& ctx) -> std::unique_ptr<Learner> {
    return std::make_unique<Trainer>(mesh_sim_training_options(d), ctx.log, ctx.comm);
  };
  f.add_eval_keys = add_rollout_keys;
  f.prepare_evaluation = [](const io::Deck& d) -> std::function<void(const RunContext&)> {
    return [options = rollout_options(d)](const RunContext& ctx) { run_mesh_rollout(options, ctx.comm, ctx.log); };
  };
  return f;
}

}  // namespace

Family transformer_family() {
  return mesh_sim_family("transformer", "graph transformer with adjacency-masked attention");
}

Family meshgraphnet_family() { return mesh_sim_family("meshgraphnet", "MeshGraphNet baseline"); }

std::vector<Family> mesh_sim_families() { return {transformer_family(), meshgraphnet_family()}; }

}  // namespace tessera::train
