#include "core/memory.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

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

}  // namespace

int64_t memory_limit_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  int64_t limit = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"})
    if (const int64_t group = cgroup_limit(path); group > 0 && (limit == 0 || group < limit)) limit = group;
  return limit;
}

}  // namespace tessera::core
