// One trajectory of a mesh dataset prepared for training: the mesh and its graphs (built once),
// node types, and the velocity time series as tensors.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/halo_exchange.hpp"
#include "io/dataset.hpp"
#include "mesh/augment.hpp"
#include "mesh/mesh.hpp"

namespace tessera::train {

constexpr int64_t kNodeTypeClasses = 9;                  // one-hot width of MeshGraphNets node types (codes 0..8)
constexpr int64_t kNodeFeatures = 2 + kNodeTypeClasses;  // node_features(): velocity + one-hot type
constexpr int64_t kOutputChannels = 2;                   // predicted velocity change

struct TrajectoryData {
  mesh::Mesh mesh;
  at::Tensor pos;            // [N, 2] float32
  at::Tensor node_type;      // [N] int64
  at::Tensor velocity;       // [T, N, 2] float32
  at::Tensor loss_mask;      // [N] bool: normal (0) and outflow (5) nodes, where the loss is taken
  at::Tensor fixed_mask;     // [N] bool: nodes whose velocity is imposed in rollouts (all others)
  gnn::EdgeIndex graph;      // mesh graph (MeshGraphNet, base of attention masks)
  gnn::EdgeIndex attention;  // mesh graph united with the non-dilating augmentations of the deck
  gnn::EdgeIndex dilated;    // dilation graph (augment.dilation), empty when off
  at::Tensor edge_features;  // [E, 3]: relative position (src - dst) and its length
  // Graph-parallel training: this rank's nodes (owned first, then a halo as deep as the model)
  // and their global ids; all tensors above are then local. Unpartitioned: all nodes owned.
  int64_t num_owned = 0, global_nodes = 0;
  at::Tensor global_ids;                    // [N_local] int64, undefined when not partitioned
  std::shared_ptr<gnn::HaloExchange> halo;  // refreshes halo rows from their owners (partitioned only)
  // A batch of trajectories (batch_trajectories): trajectory b holds nodes [offsets[b],
  // offsets[b + 1]); empty otherwise.
  std::vector<int64_t> batch_offsets;
  // io::trajectory_fingerprint of the dataset trajectory it was made from (whole, before any
  // partition); empty for a batch. Checkpoints list their training trajectories' (train/trainer.cpp).
  std::string fingerprint;

  int64_t steps() const { return velocity.size(0); }
  bool partitioned() const { return global_ids.defined(); }
  int64_t nodes() const { return velocity.size(1); }
  bool has_dilated() const { return dilated.num_nodes > 0; }
  // A copy whose tensors live on `device`; global ids and the halo plan stay on the host, where
  // MPI reads them.
  TrajectoryData to(const at::Device& device) const;
};

// Builds TrajectoryData from a dataset trajectory (fields cells, mesh_pos, node_type, velocity)
// with the attention-mask augmentations `augment`. `what` names it in errors. With a
// communicator of several ranks the graphs are METIS-partitioned and this rank's part is kept,
// with a halo of `halo_hops` hops (the model's depth), so owned nodes are computed exactly
// without communication inside the model.
TrajectoryData prepare_trajectory(const io::Trajectory& t, const mesh::AugmentOptions& augment, const std::string& what,
                                  const Comm& comm = Comm::self(), int halo_hops = 1);

// A warning when this rank's part of a partitioned trajectory holds at least 90% of the graph:
// each rank then does nearly the whole model's work and the ranks only add exchanges. The
// long-range mask edges of `augment` (random jumps, global hubs, k-hop masks) are named when on,
// since they reach everywhere in a few hops; `instead` says what to run instead. Empty otherwise.
std::string halo_coverage_warning(const TrajectoryData& t, const mesh::AugmentOptions& augment, int halo_hops,
                                  const std::string& instead);

// Trajectory `id` of <dir>/<split>.h5 for an evaluation: its data, its name in messages
// ("<dir>/<split>.h5 #<id>"), the split's dt and the deck its writer stored. An id the file does
// not hold is an Error about deck key `key`.
struct DatasetTrajectory {
  io::Trajectory data;
  std::string what;
  double dt = 0;
  std::string deck_yaml;
};
DatasetTrajectory read_dataset_trajectory(const std::string& dir, const std::string& split, int64_t id,
                                          const std::string& key);
// <dir>/<split>.h5 opened for reading. A folder that cannot be read is data.dir's error, a split
// that cannot be opened `split_key`'s (data.split, data.train_split, ...), which run_app locates
// at those keys; what is found in the data later names its own cause.
io::DatasetReader open_split(const std::string& dir, const std::string& split, const std::string& split_key,
                             const std::string& dir_key = "data.dir");
// A trajectory of `steps` states must have at least 2 to be rolled out: one state has no step to
// predict (it was reported as zero error, or failed only at the pictures, leaving files behind).
void require_steps_to_roll_out(int64_t steps, const std::string& what);
// The check read_dataset_trajectory makes, on an open reader of <dir>/<split>.h5.
void require_dataset_trajectory(const io::DatasetReader& reader, const std::string& dir, const std::string& split,
                                int64_t id, const std::string& key);

// Loads trajectories of a split (at most `limit`, 0: all), partitioned as above; the split is
// opened by open_split with `split_key` and `dir_key` (the deck keys its errors name).
std::vector<TrajectoryData> load_split(const std::string& dir, const std::string& split,
                                       const mesh::AugmentOptions& augment, int64_t limit,
                                       const Comm& comm = Comm::self(), int halo_hops = 1,
                                       const std::string& split_key = "data.split",
                                       const std::string& dir_key = "data.dir");

// Whole trajectories as one: the disjoint union of their meshes and graphs (each keeps its own
// augmentations; no edge joins two of them), velocities side by side over the first `steps`
// steps common to all, so one forward pass advances all of them. The models act on nodes and
// edges only, so each part's prediction equals its own up to float rounding.
TrajectoryData batch_trajectories(const std::vector<TrajectoryData>& parts);

// Node input features: [velocity (2), one-hot node type (9)].
at::Tensor node_features(const at::Tensor& velocity, const TrajectoryData& t);

// The target of one pass from input `v` at step `s`: the changes to steps s + 1 .. s + K side by
// side ([N, 2K], K = model.bundle).
at::Tensor bundle_target(const TrajectoryData& t, int64_t s, const at::Tensor& v, int64_t bundle);

}  // namespace tessera::train
