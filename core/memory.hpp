// How much memory this machine has, for checks that refuse a size before it is allocated.
#pragma once
#include <cstdint>

namespace tessera::core {

// Physical memory in bytes (sysconf), or 0 where it cannot be read.
int64_t physical_memory_bytes();

}  // namespace tessera::core
