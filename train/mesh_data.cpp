#include "train/mesh_data.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "io/fingerprint.hpp"
#include "mesh/augment.hpp"
#include "mesh/graph.hpp"
#include "mesh/partition.hpp"
#include "mesh/validation.hpp"

namespace tessera::train {
namespace {

// A field of the mesh datasets, stored as int32 (`integer`) or float32: meta.json names each
// field's type, and a field read as the other type holds no values here (reading them crashed).
const io::FieldData& field(const io::Trajectory& t, const std::string& name, const std::string& what, bool integer) {
  auto it = t.find(name);
  if (it == t.end()) throw Error(cat(what, ": the dataset has no field '", name, "'"));
  const io::FieldData& f = it->second;
  size_t values = 1;
  for (hsize_t n : f.shape) values *= n;
  if ((integer ? f.i32.size() : f.f32.size()) != values)
    throw Error(cat(what, ": field '", name, "' is ", integer ? "float32" : "int32",
                    " in the dataset's meta.json; tessera's mesh datasets store it as ",
                    integer ? "int32" : "float32"));
  return f;
}

}  // namespace

TrajectoryData prepare_trajectory(const io::Trajectory& t, const mesh::AugmentOptions& augment, const std::string& what,
                                  const Comm& comm, int halo_hops) {
  const auto& cells = field(t, "cells", what, true);
  const auto& pos = field(t, "mesh_pos", what, false);
  const auto& types = field(t, "node_type", what, true);
  const auto& vel = field(t, "velocity", what, false);
  if (cells.shape[2] != 3 || pos.shape[2] != 2 || vel.shape[2] != 2)
    throw Error(cat(what, ": expected triangle cells, 2D mesh_pos and 2D velocity"));
  // NaN or Inf in data would surface much later as nan metrics or a "diverged" loss: name it here.
  for (const auto* f : {&pos, &vel}) {
    const auto bad = std::find_if(f->f32.begin(), f->f32.end(), [](float x) { return !std::isfinite(x); });
    if (bad != f->f32.end()) {
      const int64_t at = bad - f->f32.begin(), per_step = int64_t(f->shape[1] * f->shape[2]);
      throw Error(cat(what, ": field '", f == &pos ? "mesh_pos" : "velocity", "' holds a non-finite value (", *bad,
                      " at step ", at / per_step, ", node ", (at % per_step) / int64_t(f->shape[2]), ")"));
    }
  }
  TrajectoryData d;
  d.fingerprint = io::trajectory_fingerprint(t);
  d.mesh.dim = 2;
  d.mesh.coords.assign(pos.f32.begin(), pos.f32.begin() + pos.shape[1] * 2);
  d.mesh.cells.assign(cells.i32.begin(), cells.i32.begin() + cells.shape[1] * 3);
  d.mesh.node_type.assign(types.i32.begin(), types.i32.begin() + types.shape[1]);
  mesh::orient_consistently(d.mesh);
  mesh::validate(d.mesh, what);
  const int64_t n = d.mesh.num_nodes();
  if (int64_t(vel.shape[1]) != n) throw Error(cat(what, ": velocity has ", vel.shape[1], " nodes, the mesh ", n));
  d.pos = at::tensor(at::ArrayRef<float>(pos.f32.data(), n * 2)).view({n, 2});
  d.node_type = at::tensor(at::ArrayRef<int32_t>(d.mesh.node_type)).to(at::kLong);
  d.velocity = at::tensor(at::ArrayRef<float>(vel.f32)).view({int64_t(vel.shape[0]), n, 2});
  d.loss_mask = (d.node_type == mesh::kNormal).logical_or(d.node_type == mesh::kOutflow);
  d.fixed_mask = d.loss_mask.logical_not();

  mesh::Graph base;
  mesh::Graph dil;
  mesh::Graph mg = mesh::mesh_graph(d.mesh);
  for (auto& [name, g] : mesh::augmented_graphs(mg, d.mesh.node_type, augment)) {
    if (name.rfind("dilated", 0) == 0)
      dil = std::move(g);
    else
      base = base.num_nodes ? mesh::graph_union(base, g) : g;
  }
  d.num_owned = d.global_nodes = n;
  if (comm.size() > 1) {
    // Partition the union of every graph the model may use; each is then restricted to this
    // rank's nodes, so any of them sees its full neighbourhood within the halo.
    mesh::Graph all = mesh::graph_union(mg, base);
    if (dil.num_nodes) all = mesh::graph_union(all, dil);
    auto part = mesh::partition_nodes(all, comm.size());
    auto l = mesh::local_graph(all, part, comm.size(), comm.rank(), halo_hops);
    mg = mesh::restrict_to_local(mg, l);
    base = mesh::restrict_to_local(base, l);
    if (dil.num_nodes) dil = mesh::restrict_to_local(dil, l);
    d.global_ids = at::tensor(at::ArrayRef<int64_t>(l.global_ids), at::kLong);
    d.halo = std::make_shared<gnn::HaloExchange>(l, comm);
    d.num_owned = l.num_owned;
    d.pos = d.pos.index_select(0, d.global_ids);
    d.node_type = d.node_type.index_select(0, d.global_ids);
    d.velocity = d.velocity.index_select(1, d.global_ids);
    d.fixed_mask = d.fixed_mask.index_select(0, d.global_ids);
    d.loss_mask = d.loss_mask.index_select(0, d.global_ids);
    d.loss_mask.narrow(0, l.num_owned, l.num_local() - l.num_owned).fill_(false);  // loss on owned nodes only
  }
  d.graph = gnn::EdgeIndex::from_graph(mg);
  d.attention = gnn::EdgeIndex::from_graph(base);
  if (dil.num_nodes) d.dilated = gnn::EdgeIndex::from_graph(dil);
  at::Tensor rel = d.pos.index_select(0, d.graph.src) - d.pos.index_select(0, d.graph.dst);
  d.edge_features = at::cat({rel, rel.norm(2, 1, true)}, 1);
  return d;
}

std::string halo_coverage_warning(const TrajectoryData& t, const mesh::AugmentOptions& a, int halo_hops,
                                  const std::string& instead) {
  if (!t.partitioned() || t.nodes() < 0.9 * double(t.global_nodes)) return {};
  const bool long_range =
      a.jump_fraction > 0 || a.global_count > 0 || !a.global_types.empty() || a.khop > 0 || a.within_hops > 0;
  return cat("graph-parallel: this rank computes ", t.nodes(), " of the ", t.global_nodes, " nodes (its ", halo_hops,
             "-hop halo covers nearly the whole graph",
             long_range ? ", reached through the long-range mask edges of augment.*" : "", "); ", instead);
}

void require_steps_to_roll_out(int64_t steps, const std::string& what) {
  if (steps < 2)
    throw Error(cat(what, " has ", core::counted(steps, "state", "states"),
                    ": nothing to roll out (a rollout needs at least 2)"));
}

void require_dataset_trajectory(const io::DatasetReader& reader, const std::string& dir, const std::string& split,
                                int64_t id, const std::string& key) {
  const auto& ids = reader.trajectories();
  if (std::find(ids.begin(), ids.end(), id) == ids.end())
    throw Error(cat(dir, "/", split, ".h5 has no trajectory ", id, " (it has ", ids.size(), ")"), key);
}

io::DatasetReader open_split(const std::string& dir, const std::string& split, const std::string& split_key,
                             const std::string& dir_key) {
  // The folder first (data.dir also when a rollout took it from the checkpoint), then the split.
  with_key(dir_key, [&] { io::read_dataset_meta(dir); });
  return with_key(split_key, [&] { return io::DatasetReader(dir, split); });
}

DatasetTrajectory read_dataset_trajectory(const std::string& dir, const std::string& split, int64_t id,
                                          const std::string& key) {
  const io::DatasetReader reader = open_split(dir, split, "data.split");
  require_dataset_trajectory(reader, dir, split, id, key);
  return {reader.read(id), cat(dir, "/", split, ".h5 #", id), reader.meta().dt, reader.deck_yaml()};
}

std::vector<TrajectoryData> load_split(const std::string& dir, const std::string& split,
                                       const mesh::AugmentOptions& augment, int64_t limit, const Comm& comm,
                                       int halo_hops, const std::string& split_key, const std::string& dir_key) {
  const io::DatasetReader r = open_split(dir, split, split_key, dir_key);
  std::vector<TrajectoryData> out;
  for (int64_t id : r.trajectories()) {
    if (limit > 0 && int64_t(out.size()) >= limit) break;
    out.push_back(
        prepare_trajectory(r.read(id), augment, cat(dir, "/", split, ".h5 trajectory ", id), comm, halo_hops));
  }
  if (out.empty()) throw Error(cat(dir, "/", split, ".h5: no trajectories"));
  return out;
}

TrajectoryData batch_trajectories(const std::vector<TrajectoryData>& parts) {
  if (parts.empty()) throw Error("batch_trajectories: no trajectories");
  int64_t steps = parts[0].steps();
  for (const auto& p : parts) {
    if (p.partitioned() || !p.batch_offsets.empty())
      throw Error("batch_trajectories: parts must be whole, unbatched trajectories");
    steps = std::min(steps, p.steps());
  }
  TrajectoryData b;
  b.mesh.dim = 2;
  b.batch_offsets.push_back(0);
  std::vector<at::Tensor> pos, types, vel, loss, fixed, feats;
  std::vector<gnn::EdgeIndex> graph, attention, dilated;
  for (const auto& p : parts) {
    const int64_t offset = b.batch_offsets.back();
    b.mesh.coords.insert(b.mesh.coords.end(), p.mesh.coords.begin(), p.mesh.coords.end());
    for (const int64_t c : p.mesh.cells) b.mesh.cells.push_back(c + offset);
    b.mesh.node_type.insert(b.mesh.node_type.end(), p.mesh.node_type.begin(), p.mesh.node_type.end());
    pos.push_back(p.pos);
    types.push_back(p.node_type);
    vel.push_back(p.velocity.narrow(0, 0, steps));
    loss.push_back(p.loss_mask);
    fixed.push_back(p.fixed_mask);
    feats.push_back(p.edge_features);
    graph.push_back(p.graph);
    attention.push_back(p.attention);
    // A part without a dilated graph contributes its nodes and no edges to it.
    mesh::Graph none;
    none.num_nodes = p.nodes();
    none.row_ptr.assign(p.nodes() + 1, 0);
    dilated.push_back(p.has_dilated() ? p.dilated : gnn::EdgeIndex::from_graph(none));
    b.batch_offsets.push_back(offset + p.nodes());
  }
  b.pos = at::cat(pos);
  b.node_type = at::cat(types);
  b.velocity = at::cat(vel, 1);
  b.loss_mask = at::cat(loss);
  b.fixed_mask = at::cat(fixed);
  b.edge_features = at::cat(feats);
  b.graph = gnn::EdgeIndex::disjoint_union(graph);
  b.attention = gnn::EdgeIndex::disjoint_union(attention);
  const bool any_dilated = std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.has_dilated(); });
  if (any_dilated) b.dilated = gnn::EdgeIndex::disjoint_union(dilated);
  b.num_owned = b.global_nodes = b.batch_offsets.back();
  return b;
}

TrajectoryData TrajectoryData::to(const at::Device& device) const {
  TrajectoryData d = *this;
  for (at::Tensor* x : {&d.pos, &d.node_type, &d.velocity, &d.loss_mask, &d.fixed_mask, &d.edge_features})
    *x = x->to(device);
  d.graph = graph.to(device);
  d.attention = attention.to(device);
  if (has_dilated()) d.dilated = dilated.to(device);
  return d;
}

at::Tensor node_features(const at::Tensor& velocity, const TrajectoryData& t) {
  at::Tensor onehot = at::one_hot(t.node_type.clamp(0, kNodeTypeClasses - 1), kNodeTypeClasses).to(velocity.dtype());
  return at::cat({velocity, onehot}, 1);
}

at::Tensor bundle_target(const TrajectoryData& t, int64_t s, const at::Tensor& v, int64_t bundle) {
  // [K, N, 2] -> [N, K, 2] -> [N, 2K]
  return (t.velocity.narrow(0, s + 1, bundle) - v.unsqueeze(0)).permute({1, 0, 2}).reshape({v.size(0), -1});
}

}  // namespace tessera::train
