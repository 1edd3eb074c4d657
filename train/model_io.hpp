// Moving a trained mesh simulator in and out of checkpoints: its parameters and normalisers
// (shared by training and rollout), and loading a model for inference from the checkpoint
// alone (its stored deck rebuilds the architecture).
#pragma once
#include <memory>
#include <string>

#include "train/checkpoint.hpp"
#include "train/evaluate.hpp"
#include "train/mesh_sim_options.hpp"
#include "train/trained_on.hpp"

namespace tessera::train {

void pack_model(Checkpoint& c, Simulator& model, const Normalizers& norms);
// Throws naming `path` when a tensor is missing or its shape differs from the model's.
void unpack_model(const Checkpoint& c, const std::string& path, Simulator& model, Normalizers& norms);
// Throws unless `c` (read from `path`) is a checkpoint of `model`'s family; unpack_model checks it
// first, and a resume before comparing decks (another family's differs in every model key).
void require_model_family(const Checkpoint& c, const std::string& path, const Simulator& model);
const at::Tensor& checkpoint_tensor(const Checkpoint& c, const std::string& path, const std::string& name);

struct TrainedModel {
  MeshSimOptions options;  // read from the training deck stored in the checkpoint
  std::unique_ptr<Simulator> model;
  Normalizers norms;
  int64_t step = 0;
  double data_dt = 0;  // the training data's time step; 0: not stored (checkpoints before 2026-12-02)
  // The training meshes' mean edge length (mesh::mean_edge_length); 0: not stored (before 2026-12-07).
  double data_edge_length = 0;
  TrainedOn trained_on;  // its training trajectories; unknown in checkpoints before 2026-12-06
};
TrainedModel load_trained_model(const std::string& checkpoint_path);

// The training data's time step stored in checkpoint `c` (read from `path`); 0 when it has none.
// Throws naming `path` when the stored value is not a positive number.
double checkpoint_data_dt(const Checkpoint& c, const std::string& path);

// A warning when `dt`, the time step of `what` (the data a model is rolled out or trained on),
// differs from `trained_dt`, the step the model was trained on: each of its steps then predicts
// another interval of time. Empty when they agree or trained_dt is 0 (not stored).
std::string dt_mismatch_warning(double trained_dt, double dt, const std::string& what);

// The checkpoint attribute that stores the training meshes' mean edge length, and its value in
// checkpoint `c` (read from `path`; 0 when it has none).
inline constexpr const char* kDataEdgeLengthAttribute = "data_edge_length";
double checkpoint_data_edge_length(const Checkpoint& c, const std::string& path);

// A warning when the mesh of `what` has a mean edge length `edge_length` more than 3 times larger
// or smaller than `trained_edge_length`, the training meshes': the model reads edge vectors and
// positions in its training data's units, so a mesh in millimetres (or far finer or coarser than
// the training meshes) is outside what it learnt. Empty when they are near or trained is 0.
std::string mesh_scale_warning(double trained_edge_length, double edge_length, const std::string& what);

}  // namespace tessera::train
