// Benchmark: graph-masked multi-head attention, forward + backward, on triangulated grid graphs
// from ~2k to ~200k nodes. Compares tessera's fused kernels with (1) dense masked attention
// (N x N scores) and (2) the plain-torch edge implementation (index_select + scatter softmax),
// timed in the same run. Peak memory: each measurement runs in a child process; the table shows
// its peak resident memory (CPU) or peak CUDA allocation (GPU) above a baseline child that
// allocates the same inputs without attending.
//   usage: bench_attention [--quick] [--device cpu|cuda] [--heads H] [--dim D]
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "bench/timing.hpp"
#include "gnn/edge_index.hpp"
#include "gnn/sparse_attention.hpp"
#include "mesh/graph.hpp"
#include "mesh/structured.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

using namespace tessera;

// Child: one variant at one size; prints "<ms> <peak cuda bytes>" to the pipe fd.
static int child(const std::string& variant, int side, int64_t heads, int64_t dim, bool cuda, int reps, int fd) {
  const at::Device dev = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  auto ei = gnn::EdgeIndex::from_graph(mesh::mesh_graph(mesh::rectangle_grid(side, side))).to(dev);
  auto opts = at::TensorOptions().device(dev);
  at::Tensor q = at::randn({ei.num_nodes, heads, dim}, opts).requires_grad_(true);
  at::Tensor k = at::randn({ei.num_nodes, heads, dim}, opts).requires_grad_(true);
  at::Tensor v = at::randn({ei.num_nodes, heads, dim}, opts).requires_grad_(true);
  auto sync = [&] {
    if (cuda) at::detail::getCUDAHooks().deviceSynchronize(0);
  };
  auto step = [&] {
    at::Tensor o = variant == "tessera" ? gnn::sparse_attention(q, k, v, ei)
                   : variant == "edge"  ? gnn::edge_attention_torch(q, k, v, ei)
                                        : gnn::dense_masked_attention(q, k, v, ei);
    o.sum().backward();
  };
  const double ms = variant == "baseline" ? 0.0 : bench::median_ms(step, reps, 1, sync);
  long long peak_cuda = 0;
#if TESSERA_HAVE_CUDA
  if (cuda) peak_cuda = c10::cuda::CUDACachingAllocator::getDeviceStats(0).allocated_bytes[0].peak;
#endif
  dprintf(fd, "%f %lld\n", ms, peak_cuda);
  return 0;
}

struct Result {
  double ms = 0, peak_mb = 0;
  bool ok = false;
};

// Runs this program as a child for one measurement; returns its time and peak memory.
static Result measure(const char* self, const std::string& variant, int side, int64_t heads, int64_t dim, bool cuda,
                      int reps) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string s = std::to_string(side), h = std::to_string(heads), d = std::to_string(dim), r = std::to_string(reps),
                fd = std::to_string(fds[1]);
    // /proc/self/exe: argv[0] names no file when the program was started through PATH.
    execl("/proc/self/exe", self, "--child", variant.c_str(), s.c_str(), h.c_str(), d.c_str(), cuda ? "cuda" : "cpu",
          r.c_str(), fd.c_str(), (char*)nullptr);
    _exit(127);
  }
  close(fds[1]);
  char buf[128] = {0};
  ssize_t got = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  Result res;
  long long peak_cuda = 0;
  if (got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
      std::sscanf(buf, "%lf %lld", &res.ms, &peak_cuda) == 2) {
    res.ok = true;
    res.peak_mb = cuda ? peak_cuda / 1048576.0 : ru.ru_maxrss / 1024.0;  // ru_maxrss is in KiB
  }
  return res;
}

int main(int argc, char** argv) {
  // A measurement child that measure() started: its positional arguments are no user's command line.
  if (argc == 9 && !std::strcmp(argv[1], "--child"))
    return child(argv[2], std::atoi(argv[3]), std::atoll(argv[4]), std::atoll(argv[5]), !std::strcmp(argv[6], "cuda"),
                 std::atoi(argv[7]), std::atoi(argv[8]));
  bool quick = false;
  std::string device = "cpu";
  int64_t heads = 4, dim = 16;
  CLI::App cli("graph-masked attention, forward + backward: tessera against dense and plain-torch edge attention",
               "bench_attention");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "one small graph, few repetitions (smoke test)");
  cli.add_option("--device", device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  cli.add_option("--heads", heads, "attention heads")->check(bench::positive<int64_t>());
  cli.add_option("--dim", dim, "dimensions per head")->check(bench::positive<int64_t>());
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  const bool cuda = device == "cuda";
  if (cuda && !at::hasCUDA()) {
    std::fprintf(stderr, "bench_attention: --device cuda but no CUDA device is present\n");
    return 1;
  }
  const std::vector<int> sides = quick ? std::vector<int>{20} : std::vector<int>{44, 70, 100, 224, 447};
  const int64_t dense_max_nodes = cuda ? 40000 : 11000;  // N^2 H scores: ~2 GB at the CPU limit
  const int reps = quick ? 2 : 5;
  std::printf("machine: %s\n", bench::machine_description().c_str());
  std::printf("attention forward+backward, %lld heads x %lld dims, %s, %d CPU threads; memory = peak above inputs\n",
              (long long)heads, (long long)dim, cuda ? "CUDA" : "CPU", at::get_num_threads());
  std::printf("%8s %9s | %10s %9s | %10s %9s %7s %7s | %10s %9s %7s %7s\n", "nodes", "edges", "tessera ms", "MB",
              "edge ms", "MB", "time x", "mem x", "dense ms", "MB", "time x", "mem x");
  for (int side : sides) {
    const int64_t n = int64_t(side + 1) * (side + 1);
    Result base = measure(argv[0], "baseline", side, heads, dim, cuda, reps);
    Result ours = measure(argv[0], "tessera", side, heads, dim, cuda, reps);
    Result edge = measure(argv[0], "edge", side, heads, dim, cuda, reps);
    Result dense = n <= dense_max_nodes ? measure(argv[0], "dense", side, heads, dim, cuda, reps) : Result{};
    // Above the baseline child's peak (the inputs alone) on either device: on CUDA the inputs were
    // counted in (the header said "above inputs" all the same).
    auto mem = [&](const Result& r) { return std::max(r.peak_mb - base.peak_mb, 0.01); };
    const auto g = mesh::mesh_graph(mesh::rectangle_grid(side, side));
    std::printf("%8lld %9lld | %10.2f %9.1f | %10.2f %9.1f %6.2fx %6.2fx | ", (long long)n, (long long)g.num_edges(),
                ours.ms, mem(ours), edge.ms, mem(edge), edge.ms / ours.ms, mem(edge) / mem(ours));
    if (dense.ok)
      std::printf("%10.2f %9.1f %6.2fx %6.2fx\n", dense.ms, mem(dense), dense.ms / ours.ms, mem(dense) / mem(ours));
    else
      std::printf("%10s %9s %7s %7s\n", "-", "-", "-", "-");
  }
  std::printf("time x, mem x: baseline / tessera (> 1: tessera faster / smaller); '-': dense skipped (N^2 memory)\n");
  return 0;
}
