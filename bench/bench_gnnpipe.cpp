// GNNPipe benchmark (docs/gnnpipe.md): per-epoch time and bytes handed to MPI per rank for graph
// parallelism, the layer pipeline and the hybrid, on a CSBM graph or a planetoid file, for
// GCNII at several depths. Run under mpirun; np 4 is needed for the hybrid (2 parts x 2 stages).
//   mpirun -np 4 --oversubscribe bench_gnnpipe --nodes 50000 --degree 22 --layers 8,32,64 [--warmup 1]
//   mpirun -np 2 bench_gnnpipe --file data/cora/cora.h5 --layers 8,32,64
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "bench/node_graph.hpp"
#include "core/comm.hpp"
#include "train/gnnpipe/engine.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rc = 0;
  try {
    const Comm world;
    std::string file;
    int64_t nodes = 100000, hidden = 64, epochs = 3;
    double degree = 20;
    int chunks = 8, warmup = 1;
    std::vector<int64_t> depths = {8, 32, 64};
    bool quick = false;
    CLI::App cli("GNNPipe: s/epoch and bytes handed to MPI per rank for graph, pipeline and (np 4) hybrid",
                 "bench_gnnpipe");
    cli.option_defaults()->always_capture_default();
    cli.add_option("--file", file, "planetoid HDF5 file (default: a CSBM graph)");
    cli.add_option("--nodes", nodes, "CSBM nodes")->check(bench::positive<int64_t>());
    cli.add_option("--degree", degree, "CSBM average degree")->check(bench::positive<double>());
    cli.add_option("--hidden", hidden, "hidden width")->check(bench::positive<int64_t>());
    cli.add_option("--layers", depths, "GCNII depths, comma-separated")
        ->delimiter(',')
        ->check(bench::positive<int64_t>());
    cli.add_option("--epochs", epochs, "timed epochs per mode")->check(bench::positive<int64_t>());
    cli.add_option("--warmup", warmup, "untimed epochs first")->check(bench::non_negative<int>());
    cli.add_option("--chunks", chunks, "pipeline chunks")->check(bench::positive<int>());
    cli.add_flag("--quick", quick, "2000 nodes, 4 layers, 1 epoch (smoke test; overrides --nodes, --layers, --epochs)");
    if (const auto code = bench::parse(cli, argc, argv, world.root())) {
      MPI_Finalize();
      return *code;
    }
    if (quick) {
      nodes = 2000;
      depths = {4};
      epochs = 1;
    }
    at::set_num_threads(1);
    const io::NodeDataset d = bench::node_graph(file, nodes, degree);
    const int W = world.size();
    if (world.root()) {
      std::printf("machine: %s\n", bench::machine_description().c_str());
      std::printf("graph: %s, %lld nodes, %lld directed edges; %d ranks, 1 thread each; hidden %lld, fp32, %d chunks\n",
                  d.name.c_str(), (long long)d.num_nodes, (long long)d.graph.num_edges(), W, (long long)hidden, chunks);
      std::printf("%-7s %-9s %6s %10s %16s %16s %12s %12s\n", "layers", "mode", "stages", "s/epoch", "max bytes/rank",
                  "total bytes", "bytes ratio", "time ratio");
    }
    for (int64_t L : depths) {
      double base_t = 0, base_b = 0;
      for (const std::string mode : {"graph", "pipeline", "hybrid"}) {
        train::gnnpipe::EngineOptions o;
        o.model.kind = gnn::DeepGcnKind::Gcnii;
        o.model.in = d.num_features;
        o.model.classes = d.num_classes;
        o.model.hidden = hidden;
        o.model.layers = L;
        o.model.dropout = 0.5;
        o.lr = 1e-3;
        if (mode == "graph") {
          o.stages = 1;
        } else if (mode == "pipeline") {
          o.stages = W;
          o.chunks = W > 1 ? chunks : 1;
        } else {
          if (W < 4 || W % 2) continue;
          o.stages = W / 2;
          o.chunks = chunks;
        }
        if (o.stages > L) continue;
        train::gnnpipe::Engine e(d, o, world);
        for (int k = 0; k < warmup; ++k) e.epoch();
        world.barrier();
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t k = 0; k < epochs; ++k) e.epoch();
        world.barrier();
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / epochs;
        int64_t mine = e.last_bytes().total(), mx = mine, tot = mine;
        world.allreduce_max(&mx, 1);
        world.allreduce_sum(&tot, 1);
        if (mode == "graph") {
          base_t = t;
          base_b = static_cast<double>(tot);
        }
        if (world.root())
          std::printf("%-7lld %-9s %6d %10.3f %16lld %16lld %12.2f %12.2f\n", (long long)L, mode.c_str(), o.stages, t,
                      (long long)mx, (long long)tot, tot ? base_b / tot : 0.0, base_t / t);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gnnpipe: error: %s\n", e.what());
    rc = 1;
  }
  MPI_Finalize();
  return rc;
}
