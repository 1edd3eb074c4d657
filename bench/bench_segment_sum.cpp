// Benchmark: tessera's segment_sum (message aggregation, CSR by destination, no atomics) against
// plain torch index_add_ (scatter with atomics on GPU), forward, on triangulated grid graphs.
// Prints a table with the ratio torch / tessera measured in the same run; runs on CUDA too when
// a GPU is present.   usage: bench_segment_sum [--quick] [--features F]
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "bench/timing.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/kernels/segment_sum.hpp"
#include "mesh/graph.hpp"
#include "mesh/structured.hpp"

using namespace tessera;

int main(int argc, char** argv) {
  bool quick = false;
  int64_t feats = 128;
  CLI::App cli("segment_sum forward against torch index_add_ on triangulated grid graphs", "bench_segment_sum");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "one small graph, few repetitions (smoke test)");
  cli.add_option("--features", feats, "features per edge message")->check(bench::positive<int64_t>());
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  std::vector<int> sides = quick ? std::vector<int>{20} : std::vector<int>{44, 100, 224, 447};  // ~2k..200k nodes
  std::vector<at::Device> devices{at::kCPU};
  if (at::hasCUDA()) devices.push_back(at::kCUDA);
  std::printf("machine: %s\n", bench::machine_description().c_str());
  std::printf("segment_sum forward, F = %lld, %d CPU threads%s\n", (long long)feats, at::get_num_threads(),
              at::hasCUDA() ? ", CUDA present" : ", no CUDA device");
  std::printf("%-6s %9s %10s %14s %14s %8s %s\n", "device", "nodes", "edges", "torch ms", "tessera ms", "ratio",
              "max |diff|");
  for (const auto& dev : devices) {
    const bool cuda = dev.is_cuda();
    for (int side : sides) {
      auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(mesh::rectangle_grid(side, side))).to(dev);
      at::Tensor v = at::randn({ei.num_edges(), feats}, at::TensorOptions().device(dev));
      at::Tensor ref = at::zeros({ei.num_nodes, feats}, v.options()).index_add_(0, ei.dst, v);
      at::Tensor got = gnn::kernels::segment_sum(v, ei.dst_ptr, at::Tensor());
      const double diff = (ref - got).abs().max().item<double>();
      const int reps = quick ? 3 : 15;
      std::function<void()> sync;
      if (cuda) sync = [] { at::detail::getCUDAHooks().deviceSynchronize(0); };
      double t_torch = bench::median_ms(
          [&] {
            at::zeros({ei.num_nodes, feats}, v.options()).index_add_(0, ei.dst, v);
          },
          reps, 3, sync);
      double t_ours = bench::median_ms([&] { gnn::kernels::segment_sum(v, ei.dst_ptr, at::Tensor()); }, reps, 3, sync);
      std::printf("%-6s %9lld %10lld %14.3f %14.3f %7.2fx %.2e\n", cuda ? "cuda" : "cpu", (long long)ei.num_nodes,
                  (long long)ei.num_edges(), t_torch, t_ours, t_torch / t_ours, diff);
    }
  }
  return 0;
}
