#include "core/memory.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>

#include "core/error.hpp"

namespace tessera::core {
namespace {

// The number in a control-group file ("max" or absent: none).
int64_t cgroup_limit(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text.empty() || text == "max") return 0;
  try {
    return static_cast<int64_t>(std::stoull(text));
  } catch (...) {
    return 0;
  }
}

// The smallest memory limit of this process's control group and its parents, from
// /proc/self/cgroup: "0::/a/b" (v2: memory.max) or "N:memory:/a/b" (v1: memory.limit_in_bytes).
// A batch system or container sets it below the machine's memory, often on a nested group.
int64_t group_limit() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  int64_t smallest = 0;
  while (std::getline(in, line)) {
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = ":" + line.substr(first + 1, second - first - 1) + ",";
    std::string base, file;
    if (controllers == ":,")
      base = "/sys/fs/cgroup", file = "/memory.max";
    else if (controllers.find(":memory,") != std::string::npos || controllers.find(",memory,") != std::string::npos)
      base = "/sys/fs/cgroup/memory", file = "/memory.limit_in_bytes";
    else
      continue;
    for (std::string path = line.substr(second + 1);; path = path.substr(0, path.rfind('/'))) {
      if (!path.empty() && path.back() == '/') path.pop_back();
      if (const int64_t limit = cgroup_limit((base + path + file).c_str());
          limit > 0 && (smallest == 0 || limit < smallest))
        smallest = limit;
      if (path.empty() || path.rfind('/') == std::string::npos) break;
    }
  }
  return smallest;
}

std::atomic<int> processes_here{1};

}  // namespace

void set_processes_on_this_machine(int count) {
  if (count < 1) throw Error(cat("set_processes_on_this_machine: the count must be >= 1, got ", count));
  processes_here = count;
}

int processes_on_this_machine() { return processes_here; }

int64_t memory_share_bytes() { return memory_limit_bytes() / processes_here; }

int64_t memory_limit_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  const int64_t physical = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
  const int64_t group = group_limit();
  return group > 0 && (physical == 0 || group < physical) ? group : physical;
}

}  // namespace tessera::core
