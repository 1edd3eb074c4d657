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
#include <sstream>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "io/csbm.hpp"
#include "io/planetoid.hpp"
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
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() { return std::string(i + 1 < argc ? argv[++i] : ""); };
      if (a == "--help" || a == "-h") {
        if (world.rank() == 0)
          std::printf(
              "usage: mpirun -np N bench_gnnpipe [options]\n"
              "  --file F        planetoid HDF5 file (default: a CSBM graph)\n"
              "  --nodes N       CSBM nodes (100000)\n"
              "  --degree D      CSBM average degree (20)\n"
              "  --hidden H      hidden width (64)\n"
              "  --layers L,...  GCNII depths (8,32,64)\n"
              "  --epochs E      timed epochs per mode (3)\n"
              "  --warmup W      untimed epochs first (1)\n"
              "  --chunks C      pipeline chunks (8)\n"
              "  --quick         2000 nodes, 4 layers, 1 epoch (smoke test)\n"
              "Prints s/epoch and bytes handed to MPI per rank for graph, pipeline and (np 4) hybrid.\n");
        MPI_Finalize();
        return 0;
      } else if (a == "--file")
        file = next();
      else if (a == "--nodes")
        nodes = std::stoll(next());
      else if (a == "--degree")
        degree = std::stod(next());
      else if (a == "--hidden")
        hidden = std::stoll(next());
      else if (a == "--epochs")
        epochs = std::stoll(next());
      else if (a == "--warmup")
        warmup = std::stoi(next());
      else if (a == "--chunks")
        chunks = std::stoi(next());
      else if (a == "--quick") {
        nodes = 2000;
        depths = {4};
        epochs = 1;
      } else if (a == "--layers") {
        depths.clear();
        std::stringstream ss(next());
        for (std::string t; std::getline(ss, t, ',');) depths.push_back(std::stoll(t));
      } else {
        throw std::runtime_error("unknown option " + a + " (see --help)");
      }
    }
    at::set_num_threads(1);
    io::NodeDataset d;
    if (!file.empty()) {
      d = io::read_planetoid(file);
    } else {
      io::CsbmOptions c;
      c.nodes = nodes;
      c.average_degree = degree;
      c.classes = 8;
      c.features = 64;
      c.seed = 1;
      d = io::make_csbm(c);
    }
    const int W = world.size();
    if (world.root())
      std::printf("graph: %s, %lld nodes, %lld directed edges; %d ranks, 1 thread each; hidden %lld, fp32, %d chunks\n",
                  d.name.c_str(), (long long)d.num_nodes, (long long)d.graph.num_edges(), W, (long long)hidden, chunks);
    if (world.root())
      std::printf("%-7s %-9s %6s %10s %16s %16s %12s %12s\n", "layers", "mode", "stages", "s/epoch", "max bytes/rank",
                  "total bytes", "bytes ratio", "time ratio");
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
