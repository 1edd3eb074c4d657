// How much memory this process may use, for checks that refuse a size before it is allocated.
#pragma once
#include <cstdint>

namespace tessera::core {

// The smaller of the machine's physical memory (sysconf) and this process's control-group limit
// (cgroup v2 memory.max, or v1 memory.limit_in_bytes), in bytes; 0 where neither can be read.
int64_t memory_limit_bytes();

}  // namespace tessera::core
