// GCNII training epoch: tessera's GNNPipe engine (graph mode, one rank) against PyTorch Geometric's
// GCN2Conv and the GCNII authors' PyTorch model (bench/gnnpipe_peers.py), on the same graph, depth,
// width, dropout and optimiser, with the same CPU threads, in one run. Each peer epoch is timed
// between two of tessera's (a kept peer process, bench/peer_server.hpp), so a drift of the machine
// moves both sides of a ratio alike. Run through bench/bench_gnnpipe_peers.sh (it creates the
// peers' venv); docs/gnnpipe.md has the numbers.
//   bench/bench_gnnpipe_peers.sh [BUILD_DIR] [--file data/cora/cora.h5 | --nodes N --degree D]
//                                [--layers 8,32,64] [--threads 1] [--pairs 7]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_paths.hpp"
#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "bench/node_graph.hpp"
#include "bench/peer_server.hpp"
#include "bench/timing.hpp"
#include "core/comm.hpp"
#include "train/gnnpipe/engine.hpp"

using namespace tessera;

namespace {

// The graph, features, labels and training nodes in the files gnnpipe_peers.py reads, with the
// model's settings in meta.txt.
void write_peer_files(bench::PeerFiles& files, const io::NodeDataset& d, const train::gnnpipe::EngineOptions& o) {
  const auto longs = [](const std::vector<int64_t>& v) { return at::tensor(at::ArrayRef<int64_t>(v), at::kLong); };
  std::vector<int64_t> train;
  for (int64_t i = 0; i < d.num_nodes; ++i)
    if (d.train_mask[i]) train.push_back(i);
  files.write("src.i64", longs(d.graph.src));
  files.write("dst.i64", longs(d.graph.dst));
  files.write("x.f32", at::tensor(at::ArrayRef<float>(d.x), at::kFloat));
  files.write("y.i64", longs(d.y));
  files.write("train.i64", longs(train));
  std::ostringstream meta;
  meta << "nodes " << d.num_nodes << "\nedges " << d.graph.num_edges() << "\nfeatures " << d.num_features
       << "\nclasses " << d.num_classes << "\ntrain " << train.size() << "\nlayers " << o.model.layers << "\nhidden "
       << o.model.hidden << "\nalpha " << o.model.alpha << "\nlambda " << o.model.lambda << "\ndropout "
       << o.model.dropout << "\nlr " << o.lr << "\nweight_decay_conv " << o.weight_decay_conv << "\nweight_decay_dense "
       << o.weight_decay_dense << "\n";
  files.write_meta(meta.str());
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rc = 0;
  try {
    const Comm world;
    std::string file = bench::source_dir() + "/data/cora/cora.h5", python = bench::peer_venv_python(),
                peers = "pyg,torch";
    int64_t nodes = 0, hidden = 64;
    double degree = 20;
    int threads = 1, pairs = 7;
    std::vector<int64_t> depths = {8, 32, 64};
    bool quick = false;
    CLI::App cli(
        "GCNII training epoch: tessera (GNNPipe engine, graph mode) vs PyTorch Geometric and the GCNII "
        "authors' PyTorch model (bench/gnnpipe_peers.py)",
        "bench_gnnpipe_peers");
    cli.option_defaults()->always_capture_default();
    cli.add_option("--file", file, "planetoid HDF5 file");
    cli.add_option("--nodes", nodes, "instead of --file: a CSBM graph of this many nodes (64 features, 8 classes)")
        ->check(bench::positive<int64_t>());
    cli.add_option("--degree", degree, "CSBM average degree")->check(bench::positive<double>());
    cli.add_option("--hidden", hidden, "hidden width")->check(bench::positive<int64_t>());
    cli.add_option("--layers", depths, "GCNII depths, comma-separated")
        ->delimiter(',')
        ->check(bench::positive<int64_t>());
    cli.add_option("--threads", threads, "CPU threads of both sides")->check(bench::positive<int>());
    cli.add_option("--pairs", pairs, "timed pairs per peer and depth: each peer epoch between two tessera epochs")
        ->check(bench::positive<int>());
    // Repeatable, the last one wins: bench/bench_gnnpipe_peers.sh passes its venv's first, then the user's.
    cli.add_option("--python", python, "the Python that has the peers (bench/bench_gnnpipe_peers.sh creates it)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    cli.add_option("--peers", peers, "comma-separated peers of bench/gnnpipe_peers.py (pyg, torch)")
        ->check(bench::comma_choices({"pyg", "torch"}));
    cli.add_flag("--quick", quick, "4 layers, 2 pairs (smoke test; overrides --layers and --pairs)");
    if (const auto code = bench::parse(cli, argc, argv, world.root())) {
      MPI_Finalize();
      return *code;
    }
    if (world.size() != 1) throw std::runtime_error("run it on one rank (the peers are single processes)");
    const std::vector<std::string> peer_names = bench::split_list(peers);
    if (quick) depths = {4}, pairs = 2;
    at::set_num_threads(threads);
    const io::NodeDataset d = bench::node_graph(nodes > 0 ? "" : file, nodes, degree);
    std::printf(
        "GCNII training epoch (full graph: dropout, forward, NLL over %s training nodes, backward, Adam), fp32\n",
        std::to_string(std::count(d.train_mask.begin(), d.train_mask.end(), 1)).c_str());
    std::printf("graph: %s, %lld nodes, %lld directed edges, %lld features; hidden %lld; %d CPU thread(s); %d pairs\n",
                d.name.c_str(), (long long)d.num_nodes, (long long)d.graph.num_edges(), (long long)d.num_features,
                (long long)hidden, threads, pairs);
    std::printf("machine: %s\n", bench::machine_description().c_str());
    std::printf("peers: %s %s/gnnpipe_peers.py\n", python.c_str(), bench::bench_dir().c_str());
    std::printf("%-7s %-30s %11s %10s %12s %15s\n", "layers", "model", "parameters", "ms/epoch", "vs tessera",
                "(middle half)");
    std::fflush(stdout);
    for (const int64_t L : depths) {
      train::gnnpipe::EngineOptions o;  // the gnnpipe deck's defaults (GCNII's Cora settings)
      o.model.kind = gnn::DeepGcnKind::Gcnii;
      o.model.in = d.num_features;
      o.model.classes = d.num_classes;
      o.model.hidden = hidden;
      o.model.layers = L;
      o.model.alpha = 0.1;
      o.model.lambda = 0.5;
      o.model.dropout = 0.6;
      o.lr = 0.01;
      o.weight_decay_conv = 0.01;
      o.weight_decay_dense = 5e-4;
      train::gnnpipe::Engine engine(d, o, world);
      int64_t params = 0;
      for (const auto& [name, t] : engine.parameters()) params += t.numel();
      bench::PeerFiles files("gnnpipe-peers");
      write_peer_files(files, d, o);
      std::vector<std::unique_ptr<bench::PeerServer>> servers;
      for (const auto& name : peer_names)
        servers.push_back(std::make_unique<bench::PeerServer>(bench::python_peer_command(
            python, "gnnpipe_peers.py", "--peer " + name + " --dir " + files.dir(), threads)));
      files.remove();  // every peer has read them
      const auto epoch_ms = [&] { return bench::time_ms([&] { engine.epoch(); }); };
      for (int k = 0; k < 2; ++k) epoch_ms();  // warm-up, as the peers'
      const bench::PairedTimes paired = bench::time_pairs(epoch_ms, servers, pairs);
      std::printf("%-7lld %-30s %11lld %10.1f\n", (long long)L, "tessera (GNNPipe, graph mode)", (long long)params,
                  bench::median(paired.ours));
      for (size_t k = 0; k < servers.size(); ++k) {
        const std::string name = peer_names[k] == "pyg" ? "PyG GCN2Conv" : "GCNII authors' (torch.spmm)";
        char label[64];
        std::snprintf(label, sizeof label, "%-7lld %-30s", (long long)L, name.c_str());
        bench::print_paired_row(label, name, *servers[k], paired.peer_ms[k], paired.ratios[k], params, "no epochs");
      }
      std::fflush(stdout);
    }
    std::printf(
        "vs tessera: median over pairs of (peer epoch) / (mean of the tessera epochs before and after it); > 1: "
        "tessera is faster\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gnnpipe_peers: error: %s\n", e.what());
    rc = 1;
  }
  MPI_Finalize();
  return rc;
}
