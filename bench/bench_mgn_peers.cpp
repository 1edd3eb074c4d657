// Benchmark: a MeshGraphNet training step (forward, backward, AdamW; 15 message-passing steps,
// latent 128, fp32) in tessera against the same model in other frameworks, in one run, on the
// same CylinderFlow-sized mesh as bench_train_step, with the same number of CPU threads.
// Peers run bench/mgn_peers.py (PhysicsNeMo's MeshGraphNet, with and without its concat trick,
// and a PyTorch Geometric MessagePassing MeshGraphNet) under a Python that has them: see
// bench/bench_mgn_peers.sh, which creates that venv and runs this program. Rows are measured in
// turn, `rounds` times over, so that all see the same machine load; each row's time is the
// median over all its timed steps. "tessera, concatenation form" is the pre-split forward
// (MeshGraphNetImpl::reference_forward), i.e. tessera's forward before issue 16 (but with its
// malloc settings, core::retain_freed_memory).
//   usage: bench_mgn_peers [--quick] [--threads N] [--rounds R] [--reps K] [--pairs P] [--python PATH]
//                          [--peers a,b,...] [--profile TRACE.json]
// --pairs P: instead of rounds, each peer is one kept process (bench/peer_server.hpp) and each of its
// P timed steps runs between two tessera steps; a pair's ratio is the peer's step over the mean of
// those two, and the bench prints the median and middle half of the ratios. Load that comes and
// goes within seconds (a vCPU busy in softirq) then falls on both sides of a pair alike.
// Peers are names of bench/mgn_peers.py ("none": tessera rows only); "<peer>+retain" runs it with glibc malloc tunables
// equal to what core::retain_freed_memory sets in tessera's process (the same memory policy for both).
// --profile: instead, print page faults per tessera step and write a Chrome trace of one step of
// the split form (aten op times), then stop.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bench/bench_paths.hpp"
#include "bench/cli.hpp"
#include "bench/cylinder_mesh.hpp"
#include "bench/machine.hpp"
#include "bench/peer_server.hpp"
#include "bench/timing.hpp"
#include "core/malloc_policy.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/meshgraphnet.hpp"
#include "linalg/outer_product_sum.hpp"
#include "linalg/small_products.hpp"
#include "mesh/gmsh_io.hpp"
#include "mesh/graph.hpp"
#include "train/fused_adamw.hpp"

using namespace tessera;

namespace {

struct Row {
  explicit Row(std::string n) : name(std::move(n)) {}
  std::string name;
  int64_t params = 0;
  std::vector<double> ms;      // every timed step, all rounds
  std::vector<double> rounds;  // per-round medians
  std::string error;
};

// One peer process per round: `reps` timed steps after its warm-up; fills params and step times.
void run_peer(Row& row, const std::string& python, const std::string& peer, const std::string& dir, int threads,
              int reps) {
  bench::PeerServer server(bench::mgn_peer_command(python, peer, dir, threads));
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const double t = server.step();
    if (t < 0) break;
    ms.push_back(t);
  }
  row.params = server.params();
  if (!server.error().empty()) {
    row.error = server.error();
    return;
  }
  row.ms.insert(row.ms.end(), ms.begin(), ms.end());
  row.rounds.push_back(bench::median(ms));
}

std::string fmt(double v, const char* f) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// The step's products alone: every Linear's forward, input-gradient and weight-gradient product
// of the split-first-layer MeshGraphNet, each timed on its shape at this run's threads with the
// faster of tessera's kernel (linalg) and at::mm. No step of this model can take less time than
// these products at these rates (they are most of its FLOPs); the bench prints it beside the
// peers' times, so a target ratio can be checked against what the arithmetic allows.
struct ProductFloor {
  double gflop = 0, ms = 0;
  // The weight gradients alone by each chunk kernel of outer_product_sum (libxsmm's only where the
  // build has it) and by at::mm, so that the per-machine choice of OuterSumKernel::Auto shows its reason.
  double weight_gflop = 0, weight_jit_ms = 0, weight_blas_ms = 0, weight_mm_ms = 0;
};
ProductFloor product_floor(int64_t nodes, int64_t edges, int64_t node_in, int64_t edge_in, int64_t out,
                           const gnn::MeshGraphNetConfig& c) {
  struct Product {
    int64_t rows, in, out;
    bool input_grad;
  };
  std::vector<Product> ps;
  const int64_t l = c.latent;
  auto mlp = [&](int64_t rows, int64_t in, int64_t last, bool input_grad) {  // make_mlp's layers
    for (int k = 0; k <= c.hidden_layers; ++k)
      ps.push_back({rows, k == 0 ? in : l, k == c.hidden_layers ? last : l, k > 0 || input_grad});
  };
  mlp(nodes, node_in, l, false);
  mlp(edges, edge_in, l, false);
  for (int64_t s = 0; s < c.steps; ++s) {
    // Edge update: W_e g per edge, W_s h and W_r h per node, then the MLP's further layers.
    ps.push_back({edges, l, l, true});
    ps.push_back({nodes, l, l, true});
    ps.push_back({nodes, l, l, true});
    for (int k = 1; k <= c.hidden_layers; ++k) ps.push_back({edges, l, l, true});
    // Node update: W_h h and W_a agg per node, then the MLP's further layers.
    for (int k = 0; k < 2 + c.hidden_layers; ++k) ps.push_back({nodes, l, l, true});
  }
  mlp(nodes, l, out, true);

  // The median of 15 calls after one warm-up, in seconds.
  auto seconds_of = [](const std::function<void()>& f) { return bench::median_ms(f, 15) / 1e3; };
  using linalg::OuterSumKernel;
  // A weight gradient, m x k by m x n summed over m, by one kernel: outer_product_sum's chunks
  // (OuterSumKernel::Jit or Blas) or at::mm (nullopt); each shape and kernel timed once.
  std::map<std::tuple<int64_t, int64_t, int64_t, std::optional<OuterSumKernel>>, double> weight_seconds;
  auto weight_time_of = [&](int64_t m, int64_t k, int64_t n, std::optional<OuterSumKernel> kernel) {
    auto key = std::make_tuple(m, k, n, kernel);
    if (auto it = weight_seconds.find(key); it != weight_seconds.end()) return it->second;
    at::NoGradGuard no_grad;
    const at::Tensor a = at::randn({m, k}), g = at::randn({m, n});
    const double t =
        kernel ? seconds_of([&] { linalg::outer_product_sum(a, g, *kernel); }) : seconds_of([&] { at::mm(a.t(), g); });
    return weight_seconds[key] = t;
  };
  const bool jit = linalg::outer_product_sum_takes_jit(OuterSumKernel::Jit);
  const OuterSumKernel automatic =
      linalg::outer_product_sum_takes_jit(OuterSumKernel::Auto) ? OuterSumKernel::Jit : OuterSumKernel::Blas;
  // A product m x k by k x n of activations and a weight, at the faster of tessera's kernel and at::mm.
  std::map<std::tuple<int64_t, int64_t, int64_t>, double> forward_seconds;
  auto forward_time_of = [&](int64_t m, int64_t k, int64_t n) {
    auto key = std::make_tuple(m, k, n);
    if (auto it = forward_seconds.find(key); it != forward_seconds.end()) return it->second;
    at::NoGradGuard no_grad;
    const at::Tensor x = at::randn({m, k}), b = at::randn({k, n});
    return forward_seconds[key] =
               std::min(seconds_of([&] { linalg::product_with_weight(x, b); }), seconds_of([&] { at::mm(x, b); }));
  };
  ProductFloor f;
  for (const auto& p : ps) {
    const double macs = double(p.rows) * p.in * p.out;
    const double blas = weight_time_of(p.rows, p.in, p.out, OuterSumKernel::Blas),
                 mm = weight_time_of(p.rows, p.in, p.out, std::nullopt),
                 chunks = weight_time_of(p.rows, p.in, p.out, automatic);  // what Auto takes
    f.gflop += 2e-9 * macs * (p.input_grad ? 3 : 2);
    f.ms += 1e3 * (forward_time_of(p.rows, p.in, p.out) + std::min(chunks, mm) +
                   (p.input_grad ? forward_time_of(p.rows, p.out, p.in) : 0.0));
    f.weight_gflop += 2e-9 * macs;
    if (jit) f.weight_jit_ms += 1e3 * weight_time_of(p.rows, p.in, p.out, OuterSumKernel::Jit);
    f.weight_blas_ms += 1e3 * blas;
    f.weight_mm_ms += 1e3 * mm;
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int threads = 1, rounds = 3, reps = 5, pairs = 0;
  std::string python = bench::peer_venv_python(), peers = "physicsnemo,physicsnemo+retain,physicsnemo-concat,pyg",
              profile;
  CLI::App cli("a MeshGraphNet training step in tessera against PhysicsNeMo and PyTorch Geometric (bench/mgn_peers.py)",
               "bench_mgn_peers");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "a coarse mesh, 1 round of 2 steps (smoke test)");
  cli.add_option("--threads", threads, "CPU threads of every row")->check(bench::positive<int>());
  cli.add_option("--rounds", rounds, "rounds over all rows")->check(bench::positive<int>());
  cli.add_option("--reps", reps, "timed steps per row and round")->check(bench::positive<int>());
  // Repeatable, the last one wins: bench/bench_mgn_peers.sh passes its venv's first, then the user's options.
  cli.add_option("--python", python, "the Python that has the peers (bench/bench_mgn_peers.sh creates it)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cli.add_option("--peers", peers,
                 "comma-separated peers of bench/mgn_peers.py, \"<peer>+retain\", \"<peer>+fused\" (PyTorch's fused "
                 "AdamW), \"<peer>+retain+fused\"; none: tessera only");
  cli.add_option("--pairs", pairs,
                 "instead of rounds: this many pairs per peer, each peer step (a kept peer process) between two "
                 "tessera steps; ratio = peer / mean of the two")
      ->check(bench::non_negative<int>());
  cli.add_option("--profile", profile,
                 "instead: page faults per tessera step, and a Chrome trace of one step written to this file");
  int steps_only = 0;
  cli.add_option("--steps-only", steps_only,
                 "instead: this many tessera steps and nothing else (under perf record), printing their median ms")
      ->check(bench::positive<int>());
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  if (quick) rounds = 1, reps = 2;
  at::set_num_threads(threads);

  // The mesh, features and model of bench_train_step.
  mesh::Mesh m = bench::cylinder_flow_mesh(quick);
  mesh::Graph g = mesh::mesh_graph(m);
  auto ei = gnn::EdgeIndex::from_graph(g);
  at::set_num_threads(threads);  // after Gmsh, which may touch the OpenMP settings
  at::manual_seed(0);
  const int64_t n = m.num_nodes(), in = 11, out = 2;
  at::Tensor x = at::randn({n, in}), target = at::randn({n, out});
  at::Tensor pos = at::tensor(at::ArrayRef<double>(m.coords)).to(at::kFloat).view({n, 2});
  at::Tensor rel = pos.index_select(0, ei.src) - pos.index_select(0, ei.dst);
  at::Tensor ef = at::cat({rel, rel.norm(2, 1, true)}, 1);
  gnn::MeshGraphNetConfig mc;
  mc.node_in = in;
  mc.edge_in = 3;
  mc.out_dim = out;

  std::vector<Row> rows{Row("tessera (split first layers)"), Row("tessera, concatenation form (before)")};
  std::vector<std::string> peer_names;
  for (std::stringstream ss(peers == "none" ? "" : peers); std::getline(ss, peers, ',');)
    if (!peers.empty()) peer_names.push_back(peers), rows.emplace_back(peers);
  // A peer mgn_peers.py does not know is a usage error now, not a "failed" row after the run.
  for (const std::string& name : peer_names) {
    if (!bench::known_mgn_peer(name)) {
      std::fprintf(stderr,
                   "bench_mgn_peers: --peers: unknown peer '%s'; expected physicsnemo, physicsnemo-concat, pyg or "
                   "torch, optionally with +retain, +fused or +retain+fused\n",
                   name.c_str());
      return 2;
    }
  }

  std::vector<gnn::MeshGraphNet> nets;
  std::vector<std::unique_ptr<train::FusedAdamW>> opts;
  for (int k = 0; k < 2; ++k) {
    at::manual_seed(0);
    nets.emplace_back(mc);
    opts.push_back(std::make_unique<train::FusedAdamW>(nets.back()->parameters()));
    for (const auto& t : nets.back()->parameters()) rows[k].params += t.numel();
  }
  // One training step of tessera row k, in ms.
  auto tessera_step = [&](int k) {
    return bench::time_ms([&] {
      opts[k]->zero_grad();
      at::Tensor pred = k == 0 ? nets[k]->forward(x, ef, ei) : nets[k]->reference_forward(x, ef, ei);
      (pred - target).pow(2).mean().backward();
      opts[k]->step();
    });
  };
  auto tessera_round = [&](int k) {
    tessera_step(k);  // warm-up
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) ms.push_back(tessera_step(k));
    rows[k].ms.insert(rows[k].ms.end(), ms.begin(), ms.end());
    rows[k].rounds.push_back(bench::median(ms));
  };

  if (steps_only > 0) {
    std::vector<double> ms;
    for (int s = 0; s <= steps_only; ++s) ms.push_back(tessera_step(0));
    ms.erase(ms.begin());  // the warm-up step
    std::printf("%s: %.1f ms/step (median of %d)\n", rows[0].name.c_str(), bench::median(ms), steps_only);
    return 0;
  }
  if (!profile.empty()) {
    auto faults = [] {
      rusage u{};
      getrusage(RUSAGE_SELF, &u);
      return static_cast<long>(u.ru_minflt);
    };
    for (int k = 0; k < 2; ++k) {
      tessera_round(k);  // warm-up round: first-touch faults of the activation memory
      const long f0 = faults();
      tessera_round(k);
      std::printf("%s: %.1f ms/step, %.0f page faults/step\n", rows[k].name.c_str(), rows[k].rounds.back(),
                  double(faults() - f0) / (reps + 1));
    }
    {
      torch::autograd::profiler::RecordProfile guard(profile);
      opts[0]->zero_grad();
      (nets[0]->forward(x, ef, ei) - target).pow(2).mean().backward();
      opts[0]->step();
    }
    std::printf("wrote %s\n", profile.c_str());
    return 0;
  }
  // The same graph and inputs for the peers.
  std::optional<bench::PeerFiles> files;
  try {
    files.emplace("mgn-peers");
    for (const auto& [name, t] : std::vector<std::pair<std::string, at::Tensor>>{
             {"src.i64", ei.src}, {"dst.i64", ei.dst}, {"x.f32", x}, {"e.f32", ef}, {"y.f32", target}})
      files->write(name, t);
    std::ostringstream meta;
    meta << "nodes " << n << "\nedges " << ei.num_edges() << "\nnode_in " << in << "\nedge_in 3\nout " << out
         << "\nlatent " << mc.latent << "\nsteps " << mc.steps << "\nhidden_layers " << mc.hidden_layers << "\n";
    files->write_meta(meta.str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mgn_peers: %s\n", e.what());
    return 1;
  }
  const std::string dir = files->dir();

  std::printf(
      "MeshGraphNet training step (forward + backward + AdamW, fp32), %lld nodes, %lld edges, %d CPU "
      "thread(s), %s\n",
      (long long)n, (long long)ei.num_edges(), threads,
      pairs > 0 ? (std::to_string(pairs) + " pairs per peer (each peer step between two tessera steps)").c_str()
                : (std::to_string(rounds) + " rounds x " + std::to_string(reps) + " steps per row").c_str());
  std::printf("machine: %s\n", bench::machine_description().c_str());
  std::printf("peers: %s %s/mgn_peers.py\n", python.c_str(), bench::bench_dir().c_str());
  std::fflush(stdout);
  if (pairs > 0) {
    // Each peer step between two tessera steps: tessera, peer 1, tessera, peer 2, ..., tessera.
    std::vector<std::unique_ptr<bench::PeerServer>> servers;
    for (const auto& name : peer_names)
      servers.push_back(std::make_unique<bench::PeerServer>(bench::mgn_peer_command(python, name, dir, threads)));
    files->remove();  // every peer has read them
    tessera_step(0);  // warm-up
    const bench::PairedTimes paired = bench::time_pairs(
        [&] { return tessera_step(0); }, servers, pairs,
        [&](int i, const bench::PairedTimes& t) {
          std::printf("pair %d:", i + 1);
          for (const auto& r : t.ratios)
            std::printf(" %s", r.size() == static_cast<size_t>(i + 1) ? fmt(r.back(), "%.2fx").c_str() : "-");
          std::printf("\n");
          std::fflush(stdout);
        });
    const auto& ratios = paired.ratios;
    rows[0].ms = paired.ours;
    for (size_t k = 0; k < servers.size(); ++k) rows[k + 2].ms = paired.peer_ms[k];
    rows[1].error = "(not measured with --pairs)";
    std::printf("%-38s %11s %10s %12s %15s %6s\n", "model", "parameters", "ms/step", "vs tessera", "(middle half)",
                "pairs");
    std::printf("%-38s %11lld %10.1f\n", rows[0].name.c_str(), (long long)rows[0].params, bench::median(rows[0].ms));
    for (size_t k = 0; k < servers.size(); ++k) {
      Row& row = rows[k + 2];
      row.params = servers[k]->params();
      if (ratios[k].empty()) {
        row.error = servers[k]->error().empty() ? "no steps" : servers[k]->error();
        std::printf("%-38s %s\n", row.name.c_str(), row.error.c_str());
        continue;
      }
      std::printf("%-38s %11lld %10.1f %11.2fx %7.2f-%-7.2f %6zu\n", row.name.c_str(), (long long)row.params,
                  bench::median(row.ms), bench::median(ratios[k]), bench::quantile(ratios[k], 0.25),
                  bench::quantile(ratios[k], 0.75), ratios[k].size());
    }
    std::printf(
        "vs tessera: median over pairs of (peer step) / (mean of the tessera steps before and after it); > 1: tessera "
        "is faster\n");
  } else {
    for (int r = 0; r < rounds; ++r) {
      for (size_t k = 0; k < rows.size(); ++k) {
        if (k < 2)
          tessera_round(static_cast<int>(k));
        else if (rows[k].error.empty())
          run_peer(rows[k], python, peer_names[k - 2], dir, threads, reps);
      }
      std::printf("round %d:", r + 1);
      for (const auto& row : rows)
        std::printf(" %.0f", row.rounds.size() > static_cast<size_t>(r) ? row.rounds[r] : 0.0);
      std::printf(" ms\n");
      std::fflush(stdout);
    }
    files->remove();

    std::printf("%-38s %11s %10s %17s %12s\n", "model", "parameters", "ms/step", "rounds (min-max)", "vs tessera");
    for (const auto& row : rows) {
      if (!row.error.empty()) {
        std::printf("%-38s %s\n", row.name.c_str(), row.error.c_str());
        continue;
      }
      const double t = bench::median(row.ms);
      const auto [lo, hi] = std::minmax_element(row.rounds.begin(), row.rounds.end());
      std::printf("%-38s %11lld %10.1f %8.0f-%-8.0f %11.2fx\n", row.name.c_str(), (long long)row.params, t, *lo, *hi,
                  t / bench::median(rows[0].ms));
    }
    std::printf("vs tessera: model time / tessera (split first layers) time (> 1: tessera is faster)\n");
  }
  const double t_new = bench::median(rows[0].ms);
  // What the arithmetic allows: the products alone, at the best rate measured on each shape now.
  const ProductFloor floor = product_floor(n, ei.num_edges(), in, 3, out, mc);
  std::printf(
      "products alone (forward, input and weight gradients; %.1f GFLOP per step), each at the faster of\n"
      "tessera's kernel and at::mm on its shape, now: %.1f ms (%.0f GFLOP/s), %.0f%% of the tessera step\n",
      floor.gflop, floor.ms, floor.gflop / floor.ms * 1e3, 100 * floor.ms / t_new);
  const auto rate = [&](double ms) { return floor.weight_gflop / ms * 1e3; };
  std::printf("  of them the weight gradients (%.1f GFLOP): ", floor.weight_gflop);
  if (linalg::outer_product_sum_takes_jit(linalg::OuterSumKernel::Jit))
    std::printf("libxsmm chunks %.1f ms (%.0f GFLOP/s), ", floor.weight_jit_ms, rate(floor.weight_jit_ms));
  std::printf("BLAS chunks %.1f ms (%.0f GFLOP/s), at::mm %.1f ms (%.0f GFLOP/s); tessera takes %s here\n",
              floor.weight_blas_ms, rate(floor.weight_blas_ms), floor.weight_mm_ms, rate(floor.weight_mm_ms),
              linalg::outer_product_sum_takes_jit(linalg::OuterSumKernel::Auto) ? "libxsmm's" : "BLAS");
  for (size_t k = 2; k < rows.size(); ++k)
    if (rows[k].error.empty())
      std::printf(
          "  %s / 2 = %.1f ms: %s\n", rows[k].name.c_str(), bench::median(rows[k].ms) / 2,
          bench::median(rows[k].ms) / 2 > floor.ms ? "above the products' time" : "below the products' time alone");
  for (const auto& row : rows)
    if (row.error.empty() && row.params != rows[0].params) {
      std::printf("warning: %s has %lld parameters, tessera %lld\n", row.name.c_str(), (long long)row.params,
                  (long long)rows[0].params);
    }
  return 0;
}
