// The typed settings of the mesh simulator families (transformer, meshgraphnet): everything the
// trainer and the rollout job need from a deck, read and checked once. Only mesh_sim_options.cpp
// reads the deck; the library code below it takes these structs.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "mesh/augment.hpp"
#include "train/simulator.hpp"

namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::train {

struct DataOptions {
  std::string dir;  // dataset directory (resolved against the deck's directory)
  std::string train_split = "train", valid_split = "valid";
  int64_t max_trajectories = 0;  // per split; 0: all
};

struct OptimOptions {
  int64_t steps = 1000;  // optimiser steps in total (the schedule's length)
  int64_t batch = 2;
  double lr = 1e-3, lr_min = 1e-6;
  int64_t warmup = 1000;
  double weight_decay = 1e-4;
  std::array<double, 2> betas{0.9, 0.95};
  double clip = 1.0;  // gradient-norm clipping; 0: off
};

// Multi-step unrolled training (train.unroll*): each sample predicts `steps` consecutive steps
// autoregressively from its (noisy) input, boundary nodes imposed after each; the loss is taken
// on the last `grad_steps` of them and the earlier ones run without gradient, as in the
// pushforward trick of Brandstetter et al. (docs/references.md §10). k = 1 is next-step training.
struct UnrollOptions {
  int64_t steps = 1;       // k: predicted steps per sample
  int64_t grad_steps = 1;  // the last steps whose loss is taken, with gradient through them (<= k)
  int64_t ramp = 0;        // curriculum: k grows linearly from 1 to `steps` over this many optimiser steps
  double discount = 1;     // weight of loss step j of g (1-based) proportional to discount^(g - j)
  // The unroll length at optimiser step `step` (the curriculum), and the loss steps at that length.
  int64_t length_at(int64_t step) const;
  int64_t grad_steps_at(int64_t step) const;
};

struct MeshSimOptions {
  ModelOptions model;
  mesh::AugmentOptions augment;
  DataOptions data;
  OptimOptions optim;
  double noise_std = 0.02;  // Gaussian noise on the input velocity of normal nodes
  double noise_gamma = 1;   // fraction of the input noise the target corrects (MeshGraphNets' noise_gamma)
  double pushforward = 0;   // probability of training on the model's own one-step prediction
  UnrollOptions unroll;
  int64_t seed = 0;
  int64_t valid_trajectories = 2, rollout_steps = 50;
  std::string resume;              // checkpoint to resume from (resolved path); empty: none
  std::string init;                // fine-tuning: weights and normalisers from this checkpoint; empty: none
  std::string device = "cpu";      // cpu, cuda, cuda:N, auto (train/device.hpp)
  std::string precision = "fp32";  // fp32 or bf16
  bool graph_parallel = false;     // train.parallel: graph (else data)
  // Graph-parallel training of unrolled steps with gradient through more than one: refused by the
  // deck reader at every rank count and by the Trainer (library callers) from np = 2 on. What is
  // wrong with train.unroll_grad, or "".
  std::string unroll_parallel_error() const {
    return graph_parallel && unroll.grad_steps > 1
               ? "> 1 needs train.parallel: data (the halo exchange between graph-parallel unrolled steps carries "
                 "no gradient)"
               : "";
  }
  std::string deck_yaml;  // the resolved deck, stored in checkpoints
  std::string deck_dir;   // its directory (absolute), stored too: the stored deck's paths are relative to it
};

// The keys of the mesh simulator family `family` (data, train, model, augment), for
// io::Schema::family.
void add_mesh_sim_keys(io::Schema& schema, const std::string& family);
MeshSimOptions mesh_sim_options(const io::Deck& deck);
// mesh_sim_options with the checks that only a training run needs (a stored deck is read with
// mesh_sim_options alone, so that the checkpoints of earlier runs keep loading).
MeshSimOptions mesh_sim_training_options(const io::Deck& d);

}  // namespace tessera::train
