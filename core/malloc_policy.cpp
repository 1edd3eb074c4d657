#include "core/malloc_policy.hpp"

#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tessera::core {

void retain_freed_memory() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    if (const char* off = std::getenv("TESSERA_MALLOC_DEFAULT"); off && *off && std::string(off) != "0") return;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest; also stops its dynamic adjustment
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
  });
#endif
}

}  // namespace tessera::core
