// Benchmark: SPEN (2-IGN layers on k-hop ego-networks) against the global 2-IGN and GIN,
// forward + backward of the whole classifier on one random graph (average degree 4) of growing
// size n. Each measurement runs in a child process; memory is its peak resident memory above a
// baseline child that builds the same inputs (subgraphs, features) without running the model.
// The last rows fit the growth exponent of time and memory (log-log least squares) between
// 1,000 and 10,000 nodes. docs/spen.md has the results.
//   usage: bench_spen [--quick] [--hops K] [--channels C] [--layers L] [--ign-max N]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/cli.hpp"
#include "bench/machine.hpp"
#include "bench/timing.hpp"
#include "io/graph_generators.hpp"
#include "train/spen/data.hpp"
#include "train/spen/learner.hpp"

using namespace tessera;

namespace {

io::TuDataset random_dataset(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<int64_t, int64_t>> edges;
  while (static_cast<int64_t>(edges.size()) < 2 * n) {  // 2n edges: average degree 4
    const int64_t u = static_cast<int64_t>(io::bounded(rng(), n)), v = static_cast<int64_t>(io::bounded(rng(), n));
    if (u != v) edges.emplace_back(u, v);
  }
  io::TuDataset ds;
  ds.name = "random";
  ds.class_names = {"0", "1"};
  io::LabelledGraph g;
  g.graph = mesh::SimpleGraph::from_edges(n, edges);
  ds.graphs.push_back(std::move(g));
  return ds;
}

int child(const std::string& family, int64_t n, int64_t hops, int64_t channels, int64_t layers, bool run, int fd) {
  at::set_num_threads(1);
  train::spen::GraphClassifierOptions o;
  o.family = family == "baseline-ign"    ? "ign"
             : family == "baseline-gin"  ? "gin"
             : family == "baseline-spen" ? "spen"
                                         : family;
  o.hops = hops;
  o.channels = channels;
  o.layers = layers;
  o.constant_features = true;
  o.rare_threshold = 1 << 30;  // one weight set
  const auto data = train::spen::prepare(random_dataset(n, 1), o);
  const gnn::GraphBatch batch = train::spen::make_batch(data, {0});
  at::manual_seed(0);
  auto model = train::spen::make_model(o, data);
  double ms = 0;
  if (run)
    ms = bench::median_ms(
        [&] {
          model->zero_grad();
          model->forward(batch, {}).sum().backward();
        },
        3, 1);
  double m_mean = 0;
  for (const auto& s : data.graphs[0].subgraphs.nodes) m_mean += static_cast<double>(s.size());
  m_mean /= std::max<double>(1, static_cast<double>(data.graphs[0].subgraphs.nodes.size()));
  dprintf(fd, "%f %f %lld\n", ms, m_mean, static_cast<long long>(data.graphs[0].subgraphs.pairs.size()));
  return 0;
}

struct Result {
  double ms = 0, peak_mb = 0, m = 0;
  long long pairs = 0;
  bool ok = false;
};

Result measure(const char* self, const std::string& family, int64_t n, int64_t hops, int64_t channels, int64_t layers,
               bool run) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const std::string a = std::to_string(n), h = std::to_string(hops), c = std::to_string(channels),
                      l = std::to_string(layers), fd = std::to_string(fds[1]);
    // /proc/self/exe: argv[0] names no file when the program was started through PATH.
    execl("/proc/self/exe", self, "--child", family.c_str(), a.c_str(), h.c_str(), c.c_str(), l.c_str(),
          run ? "1" : "0", fd.c_str(), (char*)nullptr);
    _exit(127);
  }
  close(fds[1]);
  char buf[160] = {0};
  const ssize_t got = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  Result r;
  if (got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
      std::sscanf(buf, "%lf %lf %lld", &r.ms, &r.m, &r.pairs) == 3) {
    r.ok = true;
    r.peak_mb = ru.ru_maxrss / 1024.0;
  }
  return r;
}

// Slope of log y against log x.
double exponent(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t k = x.size();
  if (k < 2) return NAN;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < k; ++i) {
    const double lx = std::log(x[i]), ly = std::log(y[i]);
    sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
  }
  return (k * sxy - sx * sy) / (k * sxx - sx * sx);
}

}  // namespace

int main(int argc, char** argv) {
  // A measurement child that measure() started: its positional arguments are no user's command line.
  if (argc == 9 && !std::strcmp(argv[1], "--child"))
    return child(argv[2], std::atoll(argv[3]), std::atoll(argv[4]), std::atoll(argv[5]), std::atoll(argv[6]),
                 !std::strcmp(argv[7], "1"), std::atoi(argv[8]));
  bool quick = false;
  int64_t hops = 1, channels = 16, layers = 2, ign_max = 3000;
  CLI::App cli("SPEN against the global 2-IGN and GIN, forward + backward on random graphs of growing size",
               "bench_spen");
  cli.option_defaults()->always_capture_default();
  cli.add_flag("--quick", quick, "two small graphs (smoke test)");
  cli.add_option("--hops", hops, "SPEN ego-network depth k")->check(bench::non_negative<int64_t>());
  cli.add_option("--channels", channels, "channels per layer")->check(bench::positive<int64_t>());
  cli.add_option("--layers", layers, "layers")->check(bench::positive<int64_t>());
  cli.add_option("--ign-max", ign_max, "largest graph (nodes) the global IGN runs on (n^2 pairs)")
      ->check(bench::non_negative<int64_t>());
  if (const auto rc = bench::parse(cli, argc, argv)) return *rc;
  const std::vector<int64_t> sizes =
      quick ? std::vector<int64_t>{100, 200} : std::vector<int64_t>{100, 300, 1000, 2000, 3000, 5000, 10000};
  std::printf(
      "classifier forward+backward on one random graph (average degree 4), %lld layers x %lld channels, "
      "SPEN k = %lld, 1 CPU thread; MB = peak resident memory above the inputs\n",
      (long long)layers, (long long)channels, (long long)hops);
  std::printf("machine: %s\n", bench::machine_description().c_str());
  std::printf("%7s | %6s %9s %9s %8s | %9s %9s %8s | %9s %8s | %7s %7s\n", "nodes", "m", "pairs", "SPEN ms", "MB",
              "pairs", "IGN ms", "MB", "GIN ms", "MB", "IGN/SPEN", "mem");
  std::vector<double> xs, ts, ms_, xi, ti, mi;
  for (int64_t n : sizes) {
    const Result sb = measure(argv[0], "baseline-spen", n, hops, channels, layers, false);
    const Result s = measure(argv[0], "spen", n, hops, channels, layers, true);
    const Result gb = measure(argv[0], "baseline-gin", n, hops, channels, layers, false);
    const Result g = measure(argv[0], "gin", n, hops, channels, layers, true);
    Result ib, i;
    if (n <= ign_max) {
      ib = measure(argv[0], "baseline-ign", n, hops, channels, layers, false);
      i = measure(argv[0], "ign", n, hops, channels, layers, true);
    }
    const double smem = std::max(s.peak_mb - sb.peak_mb, 0.01), gmem = std::max(g.peak_mb - gb.peak_mb, 0.01);
    const double imem = std::max(i.peak_mb - ib.peak_mb, 0.01);
    std::printf("%7lld | %6.2f %9lld %9.2f %8.1f | ", (long long)n, s.m, s.pairs, s.ms, smem);
    if (i.ok)
      std::printf("%9lld %9.2f %8.1f | ", i.pairs, i.ms, imem);
    else
      std::printf("%9s %9s %8s | ", "-", "-", "-");
    std::printf("%9.2f %8.1f | ", g.ms, gmem);
    if (i.ok)
      std::printf("%6.1fx %6.1fx\n", i.ms / s.ms, imem / smem);
    else
      std::printf("%7s %7s\n", "-", "-");
    if (n >= 1000 && s.ok) {
      xs.push_back(n), ts.push_back(s.ms), ms_.push_back(smem);
    }
    if (n >= 1000 && i.ok) {
      xi.push_back(n), ti.push_back(i.ms), mi.push_back(imem);
    }
  }
  // A fit needs two sizes of 1,000 nodes or more (--quick has none; the IGN may have stopped earlier).
  auto fitted = [](const std::vector<double>& x, const std::vector<double>& y) {
    char text[32] = "-";
    if (x.size() >= 2) std::snprintf(text, sizeof text, "%.2f", exponent(x, y));
    return std::string(text);
  };
  if (xs.size() >= 2)
    std::printf(
        "growth exponents from 1,000 nodes up (log-log fit): SPEN time %s, memory %s; global IGN time %s, "
        "memory %s\n",
        fitted(xs, ts).c_str(), fitted(xs, ms_).c_str(), fitted(xi, ti).c_str(), fitted(xi, mi).c_str());
  else
    std::printf("growth exponents: not fitted (fewer than two sizes of 1,000 nodes or more)\n");
  std::printf("IGN/SPEN: time and memory ratios; '-': the global IGN skipped above --ign-max nodes (n^2 pairs)\n");
  return 0;
}
