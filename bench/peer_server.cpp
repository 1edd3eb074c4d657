#include "bench/peer_server.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "bench/bench_paths.hpp"
#include "bench/timing.hpp"
#include "core/malloc_policy.hpp"

namespace tessera::bench {

namespace {

// "<model>[+retain][+fused]" taken apart.
struct PeerName {
  std::string model;
  bool retain = false, fused = false;
};

PeerName split_peer(const std::string& peer) {
  PeerName p{peer};
  auto suffix = [&](const std::string& s) {
    const bool has = p.model.size() > s.size() && p.model.compare(p.model.size() - s.size(), s.size(), s) == 0;
    if (has) p.model.resize(p.model.size() - s.size());
    return has;
  };
  p.fused = suffix("+fused");
  p.retain = suffix("+retain");
  return p;
}

}  // namespace

std::string mgn_peer_command(const std::string& python, const std::string& peer, const std::string& dir, int threads) {
  const PeerName p = split_peer(peer);
  const std::string env = p.retain ? std::string("GLIBC_TUNABLES=") + core::kRetainFreedMemoryTunables + " " : "";
  return env + python_peer_command(python, "mgn_peers.py",
                                   "--peer " + p.model + (p.fused ? " --fused-adamw" : "") + " --dir " + dir, threads);
}

PeerFiles::PeerFiles(const std::string& bench) {
  std::string tmpl = "/tmp/tessera-" + bench + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot make a folder under /tmp for the peers' files");
  dir_ = tmpl;
}

void PeerFiles::write(const std::string& name, const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  const std::string path = dir_ + "/" + name;
  written_.push_back(path);
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

void PeerFiles::write_meta(const std::string& text) {
  const std::string path = dir_ + "/meta.txt";
  written_.push_back(path);
  std::ofstream f(path);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

void PeerFiles::remove() {
  if (dir_.empty()) return;
  for (const auto& path : written_) std::remove(path.c_str());
  rmdir(dir_.c_str());
  dir_.clear();
  written_.clear();
}

std::string python_peer_command(const std::string& python, const std::string& script, const std::string& args,
                                int threads) {
  return "OMP_NUM_THREADS=" + std::to_string(threads) + " " + python + " " + bench_dir() + "/" + script + " " + args +
         " --threads " + std::to_string(threads) + " 2>&1";
}

bool known_mgn_peer(const std::string& peer) {
  const std::string model = split_peer(peer).model;  // the choices of mgn_peers.py's --peer
  return model == "physicsnemo" || model == "physicsnemo-concat" || model == "pyg" || model == "torch";
}

PeerServer::PeerServer(const std::string& command) {
  std::signal(SIGPIPE, SIG_IGN);  // a peer that died answers with an error, not a signal
  int to[2], from[2];
  if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) {
    error_ = "cannot make a pipe";
    return;
  }
  pid_ = fork();
  if (pid_ == 0) {  // only async-signal-safe calls until exec
    dup2(to[0], 0);
    dup2(from[1], 1);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(to[0]);
  close(from[1]);
  if (pid_ < 0) {
    close(to[1]);
    close(from[0]);
    error_ = "cannot fork";
    return;
  }
  in_ = fdopen(to[1], "w");
  out_ = fdopen(from[0], "r");
  for (std::string key, rest; next(key, rest);) {
    if (key == "params") params_ = std::atoll(rest.c_str());
    if (key == "ready") return;
  }
  error_ = "failed: " + last_;
}

PeerServer::~PeerServer() {
  if (in_) std::fputs("quit\n", in_), std::fclose(in_);
  if (out_) std::fclose(out_);
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

double PeerServer::step() {
  if (!error_.empty()) return -1;
  std::fputs("step\n", in_);
  std::fflush(in_);
  for (std::string key, rest; next(key, rest);)
    if (key == "ms") return std::atof(rest.c_str());
  error_ = "failed: " + last_;
  return -1;
}

// The next line's first word and the rest; remembers the last other line (a Python error).
bool PeerServer::next(std::string& key, std::string& rest) {
  char buf[4096];
  if (!out_ || !std::fgets(buf, sizeof buf, out_)) return false;
  std::string line = buf;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  const size_t sp = line.find(' ');
  key = line.substr(0, sp);
  rest = sp == std::string::npos ? "" : line.substr(sp + 1);
  if (key != "params" && key != "ready" && key != "ms" && !line.empty()) last_ = line;
  return true;
}

void print_paired_row(const std::string& label, const std::string& name, const PeerServer& peer,
                      const std::vector<double>& peer_ms, const std::vector<double>& ratios, int64_t params,
                      const char* none) {
  if (ratios.empty()) {
    std::printf("%s %s\n", label.c_str(), peer.error().empty() ? none : peer.error().c_str());
    return;
  }
  std::printf("%s %11lld %10.1f %11.2fx %7.2f-%-7.2f\n", label.c_str(), (long long)peer.params(), median(peer_ms),
              median(ratios), quantile(ratios, 0.25), quantile(ratios, 0.75));
  if (peer.params() != params)
    std::printf("warning: %s has %lld parameters, tessera %lld\n", name.c_str(), (long long)peer.params(),
                (long long)params);
}

PairedTimes time_pairs(const std::function<double()>& ours, const std::vector<std::unique_ptr<PeerServer>>& peers,
                       int pairs, const std::function<void(int, const PairedTimes&)>& after_pair) {
  PairedTimes t;
  t.peer_ms.resize(peers.size());
  t.ratios.resize(peers.size());
  t.ours.push_back(ours());
  for (int i = 0; i < pairs; ++i) {
    for (size_t k = 0; k < peers.size(); ++k) {
      const double peer = peers[k]->step();
      if (peer < 0) continue;
      const double before = t.ours.back();
      t.ours.push_back(ours());
      t.peer_ms[k].push_back(peer);
      t.ratios[k].push_back(peer / (0.5 * (before + t.ours.back())));
    }
    if (after_pair) after_pair(i, t);
  }
  return t;
}

}  // namespace tessera::bench
