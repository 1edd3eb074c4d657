// The GNNPipe training engine (docs/gnnpipe.md, docs/references.md §6): ranks = P graph parts x
// S pipeline stages. Stage s owns a contiguous block of the model's layers (stage 0 also the
// input layer, the last stage the output layer); part p owns a METIS part of the nodes, with a
// 1-hop halo. The nodes are cut into C chunks (METIS within each layout part); an epoch sends
// every chunk forward through the stages in one shuffled order that all ranks draw alike, then
// backward in reverse order, then makes one synchronous Adam step.
//   graph mode = S 1, C 1 (per-layer halo exchange, gradient all-reduce over the parts);
//   pipeline   = P 1 (activations and GCNII's h0 shipped between stages);
//   hybrid     = both.
// At layer l, chunk c aggregates over its own nodes and halo nodes of chunk c with gradients
// (halo rows exchanged with the autograd op gnn::HaloExchange); sources in other chunks come from
// the stage's buffer of historical inputs: values of this epoch for chunks already processed
// (`fresh`), the previous epoch's otherwise. The result does not depend on S or on the rank count
// for a given chunk layout (P, C), which is what the tests check; with C = 1 it is exact
// full-graph training. Evaluation is exact full-graph inference (no buffer, no dropout).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "gnn/deep_gcn.hpp"
#include "io/planetoid.hpp"
#include "train/checkpoint.hpp"

namespace tessera::train::gnnpipe {

struct EngineOptions {
  gnn::DeepGcnConfig model;
  int stages = 1;             // S; the world size must be a multiple of it (P = size / S)
  int chunks = 1;             // C
  int layout_parts = 0;       // parts the chunks are cut within; 0: P (tests set it to compare rank counts)
  bool shuffle = true;        // a new chunk order every epoch (else 0..C-1)
  bool fresh = true;          // chunks processed earlier in this epoch are fresh (else last epoch's values)
  int64_t warmup_epochs = 0;  // epochs trained with one chunk (no staleness) before chunking
  double lr = 0.01, weight_decay_conv = 0, weight_decay_dense = 0;
  uint64_t seed = 0;
  at::ScalarType dtype = at::kFloat;
};

// Payload bytes this rank handed to MPI in one epoch.
struct CommBytes {
  int64_t halo = 0;       // halo rows, forward values and backward gradients
  int64_t pipeline = 0;   // activations (and h0) to the next stage, gradients to the previous
  int64_t allreduce = 0;  // gradient all-reduce among a stage's parts, and the loss
  int64_t total() const { return halo + pipeline + allreduce; }
};

struct Evaluation {
  double train_acc = 0, val_acc = 0, test_acc = 0, val_loss = 0;
};

class Engine {
 public:
  Engine(const io::NodeDataset& data, const EngineOptions& options, const Comm& world);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  double epoch();         // collective; the mean training loss of the epoch (all ranks)
  Evaluation evaluate();  // collective; exact full-graph inference
  // Collective: the logits of that inference, [nodes, classes] in float64 by global node id, on
  // every rank (tessera-rollout's per-node predictions).
  at::Tensor predict();
  int64_t epochs_done() const;
  const CommBytes& last_bytes() const;
  int parts() const;
  int stages() const;
  // Collective: the full model (parameters, Adam moments, the historical buffers when C > 1)
  // by parameter name and global node id, the same whatever the ranks.
  Checkpoint state() const;
  void load(const Checkpoint& c, const std::string& path);
  std::map<std::string, at::Tensor> parameters() const;  // collective; every parameter, full

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::train::gnnpipe
