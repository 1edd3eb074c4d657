// Registry entries of the mesh simulator families: the graph transformer with adjacency-masked
// attention (docs/references.md §3) and the MeshGraphNet baseline (§2). Both train by next-step
// prediction on graph-physics trajectories (train/trainer.hpp) and evaluate by rollouts
// (train/mesh_rollout.hpp).
#pragma once
#include "train/family.hpp"

namespace tessera::train {

Family transformer_family();
Family meshgraphnet_family();
// Both, in registration order (what a stored mesh simulator deck is read with).
std::vector<Family> mesh_sim_families();

}  // namespace tessera::train
