#include "core/malloc_policy.hpp"

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
    mallopt(M_MMAP_THRESHOLD, kRetainedMmapThreshold);  // also stops glibc's dynamic adjustment
    mallopt(M_TRIM_THRESHOLD, kRetainedTrimThreshold);
  });
#endif
}

void return_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace tessera::core
