// The machine a benchmark ran on, printed in each table's header: the same program's ratios differ
// by CPU (an AVX2-only EPYC ran the matrix products at a third of a Zen 4's rate, the solver at
// two thirds), so a table quoted without it cannot be compared with another.
#pragma once
#include <fstream>
#include <string>
#include <thread>

namespace tessera::bench {

// "<model name> (family F, model M), N logical CPUs, <vector ISA>", from /proc/cpuinfo and cpuid.
inline std::string machine_description() {
  std::string name = "unknown CPU", family, model;
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line) && (family.empty() || model.empty() || name == "unknown CPU");) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon + 2 > line.size()) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    const std::string value = line.substr(colon + 2);
    if (key == "model name" && name == "unknown CPU") name = value;
    if (key == "cpu family" && family.empty()) family = value;
    if (key == "model" && model.empty()) model = value;
  }
  std::string out = name;
  if (!family.empty()) out += " (family " + family + ", model " + model + ")";
  out += ", " + std::to_string(std::thread::hardware_concurrency()) + " logical CPUs, ";
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f"))
    out += __builtin_cpu_supports("avx512bf16") ? "AVX-512 with AVX512-BF16" : "AVX-512 without AVX512-BF16";
  else
    out += __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "AVX2 + FMA, no AVX-512" : "no AVX2";
#else
  out += "not x86-64";
#endif
  return out;
}

}  // namespace tessera::bench
