// Benchmark: one training step (forward, backward, AdamW) of MeshGraphNet (15 message-passing
// steps, latent 128) and of the graph transformers (small: 4 blocks, d 64; large: 15 blocks,
// d 128) on a CylinderFlow-sized mesh (channel 1.6 x 0.41 with a cylinder, ~2k nodes).
// Ratios are against MeshGraphNet measured in the same run.   usage: bench_train_step [--quick]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "bench/timing.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/mesh_transformer.hpp"
#include "gnn/meshgraphnet.hpp"
#include "mesh/augment.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/graph.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  const bool quick = argc > 1 && !std::strcmp(argv[1], "--quick");
  mesh::CylinderChannel c;
  c.length = 1.6;
  c.cx = 0.33;
  c.h_near = quick ? 0.03 : 0.008;
  c.h_far = quick ? 0.06 : 0.03;
  mesh::Mesh m = mesh::build_cylinder_channel(c);
  mesh::Graph g = mesh::mesh_graph(m);
  auto ei = gnn::EdgeIndex::from_graph(g);
  auto dil = gnn::EdgeIndex::from_graph(mesh::dilated(g, 2));
  at::manual_seed(0);
  const int64_t n = m.num_nodes(), in = 11, out = 2;
  at::Tensor x = at::randn({n, in}), target = at::randn({n, out});
  at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords)).to(at::kFloat).view({n, 2});
  at::Tensor rel = pos.index_select(0, ei.src) - pos.index_select(0, ei.dst);
  at::Tensor ef = at::cat({rel, rel.norm(2, 1, true)}, 1);
  const int reps = quick ? 2 : 10;
  std::printf("training step (forward + backward + AdamW), %lld nodes, %lld edges, %d CPU threads\n", (long long)n,
              (long long)ei.num_edges(), at::get_num_threads());
  std::printf("%-34s %12s %10s %12s\n", "model", "parameters", "ms/step", "vs MGN");
  auto params_of = [](torch::nn::Module& mod) {
    int64_t p = 0;
    for (const auto& t : mod.parameters()) p += t.numel();
    return p;
  };
  gnn::MeshGraphNetConfig mc;
  mc.node_in = in;
  mc.edge_in = 3;
  mc.out_dim = out;
  gnn::MeshGraphNet mgn(mc);
  torch::optim::AdamW opt_m(mgn->parameters());
  const double t_mgn = bench::median_ms([&] {
    opt_m.zero_grad();
    (mgn->forward(x, ef, ei) - target).pow(2).mean().backward();
    opt_m.step();
  }, reps);
  std::printf("%-34s %12lld %10.2f %11.2fx\n", "MeshGraphNet (15 steps, latent 128)", (long long)params_of(*mgn), t_mgn, 1.0);
  for (auto [name, layers, latent] : {std::tuple{"transformer small (4 x d64, 4 heads)", 4, 64},
                                      {"transformer large (15 x d128, 4 heads)", 15, 128}}) {
    gnn::TransformerConfig tc;
    tc.in_dim = in;
    tc.out_dim = out;
    tc.layers = layers;
    tc.latent = latent;
    tc.rope = true;
    gnn::MeshTransformer tr(tc);
    auto plan = gnn::mask_plan(tc, ei, &dil, 2);
    torch::optim::AdamW opt(tr->parameters());
    const double t = bench::median_ms([&] {
      opt.zero_grad();
      (tr->forward(x, plan, pos) - target).pow(2).mean().backward();
      opt.step();
    }, reps);
    std::printf("%-34s %12lld %10.2f %11.2fx\n", name, (long long)params_of(*tr), t, t_mgn / t);
  }
  std::printf("vs MGN: MeshGraphNet time / model time (> 1: faster than MeshGraphNet)\n");
  return 0;
}
