// A peer of a benchmark: another framework's training step in a process of its own (a Python
// script), kept between steps and asked for one timed step at a time over its standard input and
// output. bench_mgn_peers runs its peers this way, one process per round or one for a whole run of
// interleaved pairs (--pairs), so that each peer step can be timed between two of tessera's.
#pragma once
#include <ATen/core/Tensor.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tessera::bench {

// The files a bench hands its peers: a fresh folder under /tmp, raw little-endian arrays (what
// the peers' scripts read with torch.from_file) and meta.txt written into it; remove() (or the
// destructor) deletes what was written and the folder, once every peer has read them. Throws
// std::runtime_error when the folder or a file cannot be written.
class PeerFiles {
 public:
  explicit PeerFiles(const std::string& bench);  // the folder /tmp/tessera-<bench>-XXXXXX
  PeerFiles(const PeerFiles&) = delete;
  PeerFiles& operator=(const PeerFiles&) = delete;
  ~PeerFiles() { remove(); }
  const std::string& dir() const { return dir_; }
  void write(const std::string& name, const at::Tensor& t);
  void write_meta(const std::string& text);  // meta.txt
  void remove();

 private:
  std::string dir_;
  std::vector<std::string> written_;
};

// The shell command that runs the peers' script bench/<script> with `args` and `threads` CPU
// threads (OMP_NUM_THREADS and --threads), its error output joined to its output.
std::string python_peer_command(const std::string& python, const std::string& script, const std::string& args,
                                int threads);

// The shell command that runs `peer` of bench/mgn_peers.py on the graph written to `dir`, with
// `threads` CPU threads. "<peer>+retain": under the malloc policy of core::retain_freed_memory
// (glibc tunables); "<peer>+fused": with PyTorch's fused AdamW (the kernel of train::FusedAdamW)
// instead of its default per-tensor loop on the CPU.
std::string mgn_peer_command(const std::string& python, const std::string& peer, const std::string& dir, int threads);
// Whether `peer` names one of mgn_peers.py's models (physicsnemo, physicsnemo-concat, pyg, torch)
// with the suffixes mgn_peer_command understands, so that a bench can refuse it before running.
bool known_mgn_peer(const std::string& peer);

// The process of `command`, which prints "params <count>" and "ready" after its warm-up, then
// answers each "step" line with "ms <step time>", until "quit" (mgn_peers.py's protocol). A peer
// that fails is reported by error() (with its last other output line, e.g. a Python error), never
// waited for beyond its exit.
class PeerServer {
 public:
  explicit PeerServer(const std::string& command);
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;
  ~PeerServer();
  // One timed step of the peer, in ms; negative once the peer has failed (see error()).
  double step();
  const std::string& error() const { return error_; }
  int64_t params() const { return params_; }

 private:
  bool next(std::string& key, std::string& rest);
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
  int64_t params_ = 0;
  std::string error_, last_;
};

// Each peer step timed between two of tessera's, `pairs` times per peer: ours, peer 1, ours,
// peer 2, ..., ours; so a drift of the machine moves both sides of a ratio alike. `ours` runs one
// timed tessera step and returns its ms (its warm-up is the caller's); `after_pair(i, so_far)`, if
// given, runs after pair i of every peer (a progress line). A failed peer is skipped from then on.
struct PairedTimes {
  std::vector<double> ours;                          // every tessera step, ms
  std::vector<std::vector<double>> peer_ms, ratios;  // per peer: its steps; step / mean of its two neighbours
};
// One peer's line of a pairs table: `label` (its columns, padded), then its parameter count,
// median ms per step, the median ratio and the middle half of the ratios; or its error (`none`
// when it gave no step). A warning naming `name` follows when its parameter count differs from
// tessera's `params`.
void print_paired_row(const std::string& label, const std::string& name, const PeerServer& peer,
                      const std::vector<double>& peer_ms, const std::vector<double>& ratios, int64_t params,
                      const char* none = "no steps");

PairedTimes time_pairs(const std::function<double()>& ours, const std::vector<std::unique_ptr<PeerServer>>& peers,
                       int pairs, const std::function<void(int, const PairedTimes&)>& after_pair = {});

}  // namespace tessera::bench
