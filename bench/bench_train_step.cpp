// Benchmark: one training step (forward, backward, AdamW) of MeshGraphNet (15 message-passing
// steps, latent 128) and of the graph transformers (small: 4 blocks, d 64; large: 15 blocks,
// d 128) on a CylinderFlow-sized mesh (channel 1.6 x 0.41 with a cylinder, ~2k nodes; built
// without Gmsh, a triangulated channel grid of about as many nodes and edges).
// Ratios are against MeshGraphNet measured in the same run, on the same device and precision.
//   usage: bench_train_step [--quick] [--device cpu|cuda] [--precision fp32|bf16]
// (cuda: fp32 or bf16 autocast, the trainer's train.precision; on CPU bf16 autocast works too).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "bench/cli.hpp"
#include "bench/cylinder_mesh.hpp"
#include "bench/machine.hpp"
#include "bench/timing.hpp"
#include "gnn/autocast.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/mesh_transformer.hpp"
#include "gnn/meshgraphnet.hpp"
#include "mesh/augment.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/graph.hpp"
#include "mesh/structured.hpp"
#include "tessera/config.hpp"
#include "train/fused_adamw.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  bool quick = false;
  std::string device_name = "cpu", precision = "fp32";
  CLI::App cli("a training step of MeshGraphNet and the graph transformers on a CylinderFlow-sized mesh",
               "bench_train_step");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "a coarse mesh, 2 steps (smoke test)");
  cli.add_option("--device", device_name, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cli.add_option("--precision", precision, "fp32 or bf16 (autocast)")->check(CLI::IsMember({"fp32", "bf16"}));
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  const bool cuda = device_name == "cuda";
  if (cuda && !at::hasCUDA()) {
    std::fprintf(stderr, "bench_train_step: --device cuda, but no CUDA device is visible\n");
    return 2;
  }
  const at::Device dev = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  const at::ScalarType amp = precision == "bf16" ? at::kBFloat16 : at::kFloat;
  auto sync = [cuda] {
    if (cuda) at::detail::getCUDAHooks().deviceSynchronize(0);
  };
#if TESSERA_HAVE_GMSH
  mesh::Mesh m = bench::cylinder_flow_mesh(quick);
#else
  // Without Gmsh (a GPU machine given the kit of scripts/gpu-kit): a triangulated channel grid
  // with about as many nodes and edges (65 x 27 = 1,755 nodes, ~10k directed edges).
  mesh::Mesh m = quick ? mesh::rectangle_grid(24, 8, 1.6, 0.41) : mesh::rectangle_grid(64, 26, 1.6, 0.41);
#endif
  mesh::Graph g = mesh::mesh_graph(m);
  auto ei = gnn::EdgeIndex::from_graph(g).to(dev);
  auto dil = gnn::EdgeIndex::from_graph(mesh::dilated(g, 2)).to(dev);
  at::manual_seed(0);
  const int64_t n = m.num_nodes(), in = 11, out = 2;
  at::Tensor x = at::randn({n, in}).to(dev), target = at::randn({n, out}).to(dev);
  at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords)).to(at::kFloat).view({n, 2}).to(dev);
  at::Tensor rel = pos.index_select(0, ei.src) - pos.index_select(0, ei.dst);
  at::Tensor ef = at::cat({rel, rel.norm(2, 1, true)}, 1);
  const int reps = quick ? 2 : 10;
  std::printf("training step (forward + backward + AdamW), %lld nodes, %lld edges, %s, %s, %d CPU threads\n",
              (long long)n, (long long)ei.num_edges(), device_name.c_str(), precision.c_str(), at::get_num_threads());
  std::printf("machine: %s\n", bench::machine_description().c_str());
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
  mgn->to(dev);
  train::FusedAdamW opt_m(mgn->parameters());  // the trainers' optimiser
  const double t_mgn = bench::median_ms(
      [&] {
        opt_m.zero_grad();
        at::Tensor pred;
        {
          gnn::AutocastScope scope(dev.type(), amp);
          pred = mgn->forward(x, ef, ei);
        }
        (pred.to(at::kFloat) - target).pow(2).mean().backward();
        opt_m.step();
      },
      reps, 1, sync);
  std::printf("%-34s %12lld %10.2f %11.2fx\n", "MeshGraphNet (15 steps, latent 128)", (long long)params_of(*mgn), t_mgn,
              1.0);
  for (auto [name, layers, latent] : {std::tuple{"transformer small (4 x d64, 4 heads)", 4, 64},
                                      {"transformer large (15 x d128, 4 heads)", 15, 128}}) {
    gnn::TransformerConfig tc;
    tc.in_dim = in;
    tc.out_dim = out;
    tc.layers = layers;
    tc.latent = latent;
    tc.rope = true;
    gnn::MeshTransformer tr(tc);
    tr->to(dev);
    auto plan = gnn::mask_plan(tc, ei, &dil, 2);
    train::FusedAdamW opt(tr->parameters());
    const double t = bench::median_ms(
        [&] {
          opt.zero_grad();
          at::Tensor pred;
          {
            gnn::AutocastScope scope(dev.type(), amp);
            pred = tr->forward(x, plan, pos);
          }
          (pred.to(at::kFloat) - target).pow(2).mean().backward();
          opt.step();
        },
        reps, 1, sync);
    std::printf("%-34s %12lld %10.2f %11.2fx\n", name, (long long)params_of(*tr), t, t_mgn / t);
  }
  std::printf("vs MGN: MeshGraphNet time / model time (> 1: faster than MeshGraphNet)\n");
  return 0;
}
