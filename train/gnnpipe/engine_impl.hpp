// Internal to train/gnnpipe/engine*.cpp: the engine's state on one rank (its stage and part, the
// chunk plans, the stage's model slice and optimiser). engine.cpp plans, trains and evaluates;
// engine_state.cpp gathers and restores the parameters and optimiser state for checkpoints.
#pragma once
#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gnn/halo_exchange.hpp"
#include "train/gnnpipe/engine.hpp"

namespace tessera::train::gnnpipe {

inline at::Tensor long_tensor(const std::vector<int64_t>& v) {
  return at::tensor(at::ArrayRef<int64_t>(v), at::kLong).clone();
}

// One chunk of the graph as this rank sees it: its rows, halo, edges and labels.
struct ChunkPlan {
  std::vector<int64_t> own_global;  // global ids of this rank's rows of the chunk (ascending)
  at::Tensor ext_idx;               // local ids of the chunk's rows: own, then halo
  int64_t num_own = 0, num_halo = 0;
  std::unique_ptr<gnn::HaloExchange> halo;  // over the stage's parts (P > 1)
  int64_t halo_send_rows = 0, halo_recv_rows = 0;
  gnn::WeightedEdges inner, outer;  // sources in the chunk (ext rows) / elsewhere (buffer rows)
  at::Tensor x, train_pos, train_y, val_pos, val_y, test_pos, test_y;
};

struct Engine::Impl {
  EngineOptions o;
  Comm world, stage_comm;
#if TESSERA_HAVE_MPI
  MPI_Comm stage_mpi = MPI_COMM_NULL;
#endif
  int P = 1, S = 1, p = 0, s = 0;
  int64_t layer_begin = 1, layer_end = 1;  // this stage's convolutions [begin, end)
  int64_t F = 0, n_train_global = 0;
  std::shared_ptr<gnn::DeepGcnImpl> model;
  std::unique_ptr<torch::optim::Adam> opt;
  std::vector<std::string> owned_names;  // parameters this stage updates
  std::vector<at::Tensor> owned_params;
  std::vector<int64_t> local_global;  // local id -> global id (owned first, then halo)
  int64_t num_owned = 0;
  std::vector<ChunkPlan> chunks;          // C plans
  ChunkPlan full;                         // the whole graph (C = 1 and evaluation)
  std::vector<at::Tensor> buf, buf_next;  // per stage layer: [num_local, F] historical inputs
  int64_t epoch = 0;
  CommBytes bytes;

  int world_rank(int part, int stage) const { return stage * P + part; }
  int64_t elem() const { return o.dtype == at::kDouble ? 8 : 4; }
  bool owns_site(int64_t site) const {
    if (site == 0) return s == 0;
    if (site == o.model.layers + 1) return s == S - 1;
    return site >= layer_begin && site < layer_end;
  }

  void send(const at::Tensor& t, int to, bool count) {
#if TESSERA_HAVE_MPI
    at::Tensor c = t.contiguous();
    MPI_Send(c.data_ptr(), static_cast<int>(c.numel()), o.dtype == at::kDouble ? MPI_DOUBLE : MPI_FLOAT, to, 7,
             world.mpi());
    if (count) bytes.pipeline += c.numel() * elem();
#endif
  }
  at::Tensor recv(int64_t rows, int64_t cols, int from) {
    at::Tensor t = at::empty({rows, cols}, o.dtype);
#if TESSERA_HAVE_MPI
    MPI_Recv(t.data_ptr(), static_cast<int>(t.numel()), o.dtype == at::kDouble ? MPI_DOUBLE : MPI_FLOAT, from, 7,
             world.mpi(), MPI_STATUS_IGNORE);
#endif
    return t;
  }

  void setup(const io::NodeDataset& d);
  ChunkPlan plan(const io::NodeDataset& d, const std::vector<int32_t>& part, const std::vector<char>& in_chunk,
                 const gnn::NormalizedGraph& a, const std::vector<int64_t>& g2l,
                 const std::vector<std::vector<int64_t>>& send, const std::vector<std::vector<int64_t>>& recv);
  at::Tensor forward_chunk(ChunkPlan& c, bool train, bool chunked, at::Tensor* leaf, at::Tensor* out);
};

}  // namespace tessera::train::gnnpipe
