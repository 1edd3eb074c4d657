// Graph-transformer mesh simulator training step: tessera's gnn::MeshTransformer against the same
// model written with PyTorch Geometric's edge softmax and scatter, and in plain PyTorch
// (bench/transformer_peers.py), on the CylinderFlow-sized mesh of bench_train_step, with the same
// widths, heads, rotary embedding, dilated heads and CPU threads, in one run. Each peer step is
// timed between two of tessera's (a kept peer process, bench/peer_server.hpp). Run through
// bench/bench_transformer_peers.sh (it installs PyTorch Geometric into the peers' venv);
// docs/benchmarks.md has the numbers.
//   bench/bench_transformer_peers.sh [BUILD_DIR] [--models small,large] [--threads 1] [--pairs 7]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_paths.hpp"
#include "bench/cli.hpp"
#include "bench/cylinder_mesh.hpp"
#include "bench/machine.hpp"
#include "bench/peer_server.hpp"
#include "bench/timing.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/mesh_transformer.hpp"
#include "mesh/augment.hpp"
#include "mesh/graph.hpp"
#include "train/fused_adamw.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  bool quick = false;
  int threads = 1, pairs = 7;
  std::string python = bench::peer_venv_python(), peers = "pyg,torch", models = "small,large";
  CLI::App cli(
      "graph-transformer training step: tessera vs the same model with PyTorch Geometric and in plain "
      "PyTorch (bench/transformer_peers.py)",
      "bench_transformer_peers");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "a coarse mesh, the small model, 2 pairs (smoke test)");
  cli.add_option("--threads", threads, "CPU threads of both sides")->check(bench::positive<int>());
  cli.add_option("--pairs", pairs, "timed pairs per peer and model: each peer step between two tessera steps")
      ->check(bench::positive<int>());
  cli.add_option("--models", models, "comma-separated: small (4 x d64), large (15 x d128)")
      ->check(bench::comma_choices({"small", "large"}));
  // Repeatable, the last one wins: bench/bench_transformer_peers.sh passes its venv's first, then the user's.
  cli.add_option("--python", python, "the Python that has the peers (bench/bench_transformer_peers.sh creates it)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cli.add_option("--peers", peers, "comma-separated peers of bench/transformer_peers.py (pyg, torch)")
      ->check(bench::comma_choices({"pyg", "torch"}));
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  try {
    const std::vector<std::string> peer_names = bench::split_list(peers);
    std::vector<std::string> model_names = bench::split_list(models);
    if (quick) model_names = {"small"}, pairs = 2;
    // The mesh, inputs and graphs of bench_train_step.
    mesh::Mesh m = bench::cylinder_flow_mesh(quick);
    mesh::Graph g = mesh::mesh_graph(m);
    auto ei = gnn::EdgeIndex::from_graph(g);
    auto dil = gnn::EdgeIndex::from_graph(mesh::dilated(g, 2));
    at::set_num_threads(threads);  // after Gmsh, which may touch the OpenMP settings
    at::manual_seed(0);
    const int64_t n = m.num_nodes(), in = 11, out = 2, dilated_layers = 2;
    at::Tensor x = at::randn({n, in}), target = at::randn({n, out});
    at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords)).to(at::kFloat).view({n, 2});

    std::printf(
        "graph-transformer training step (forward + backward + AdamW, fp32), %lld nodes, %lld edges "
        "(%lld dilated), %d CPU thread(s), %d pairs per peer\n",
        (long long)n, (long long)ei.num_edges(), (long long)dil.num_edges(), threads, pairs);
    std::printf("machine: %s\n", bench::machine_description().c_str());
    std::printf("peers: %s %s/transformer_peers.py\n", python.c_str(), bench::bench_dir().c_str());
    std::printf("%-38s %-8s %11s %10s %12s %15s\n", "model", "side", "parameters", "ms/step", "vs tessera",
                "(middle half)");
    std::fflush(stdout);
    for (const std::string& size : model_names) {
      gnn::TransformerConfig tc;  // bench_train_step's two models
      tc.in_dim = in;
      tc.out_dim = out;
      tc.layers = size == "small" ? 4 : 15;
      tc.latent = size == "small" ? 64 : 128;
      tc.rope = true;
      const std::string label =
          size == "small" ? "transformer small (4 x d64, 4 heads)" : "transformer large (15 x d128, 4 heads)";
      gnn::MeshTransformer tr(tc);
      const auto plan = gnn::mask_plan(tc, ei, &dil, dilated_layers);
      train::FusedAdamW opt(tr->parameters());  // the trainers' optimiser
      int64_t params = 0;
      for (const auto& t : tr->parameters()) params += t.numel();
      const auto step_ms = [&] {
        return bench::time_ms([&] {
          opt.zero_grad();
          (tr->forward(x, plan, pos) - target).pow(2).mean().backward();
          opt.step();
        });
      };
      // The same graphs and inputs for the peers.
      bench::PeerFiles files("transformer-peers");
      for (const auto& [name, t] : std::vector<std::pair<std::string, at::Tensor>>{{"src.i64", ei.src},
                                                                                   {"dst.i64", ei.dst},
                                                                                   {"dilated_src.i64", dil.src},
                                                                                   {"dilated_dst.i64", dil.dst},
                                                                                   {"pos.f32", pos},
                                                                                   {"x.f32", x},
                                                                                   {"y.f32", target}})
        files.write(name, t);
      std::ostringstream meta;
      meta << "nodes " << n << "\nedges " << ei.num_edges() << "\ndilated_edges " << dil.num_edges() << "\nnode_in "
           << in << "\nout " << out << "\nlatent " << tc.latent << "\nlayers " << tc.layers << "\nheads " << tc.heads
           << "\ndilated_layers " << dilated_layers << "\nrope_scale " << tc.rope_scale << "\n";
      files.write_meta(meta.str());
      std::vector<std::unique_ptr<bench::PeerServer>> servers;
      for (const auto& name : peer_names)
        servers.push_back(std::make_unique<bench::PeerServer>(bench::python_peer_command(
            python, "transformer_peers.py", "--peer " + name + " --dir " + files.dir(), threads)));
      files.remove();                         // every peer has read them
      for (int k = 0; k < 2; ++k) step_ms();  // warm-up, as the peers'
      const bench::PairedTimes paired = bench::time_pairs(step_ms, servers, pairs);
      std::printf("%-38s %-8s %11lld %10.1f\n", label.c_str(), "tessera", (long long)params,
                  bench::median(paired.ours));
      for (size_t k = 0; k < servers.size(); ++k) {
        char row[96];
        std::snprintf(row, sizeof row, "%-38s %-8s", label.c_str(), peer_names[k].c_str());
        bench::print_paired_row(row, peer_names[k], *servers[k], paired.peer_ms[k], paired.ratios[k], params);
      }
      std::fflush(stdout);
    }
    std::printf(
        "vs tessera: median over pairs of (peer step) / (mean of the tessera steps before and after it); > 1: "
        "tessera is faster. The peers run PyTorch's default AdamW, tessera its fused one.\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_transformer_peers: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
