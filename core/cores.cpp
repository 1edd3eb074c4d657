#include "core/cores.hpp"

#include <sched.h>
#include <unistd.h>

#include "core/counted.hpp"
#include "core/error.hpp"

namespace tessera::core {

int cores_available() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

std::string threads_warning(int64_t threads, const std::string& key) {
  const int cores = cores_available();
  if (threads <= cores) return "";
  return cat("threads: ", threads, " per process, more than the ", core::counted(cores, "core", "cores"),
             " this process may run on: threads beyond the cores wait for each other and slow the run down (set ", key,
             " to at most ", cores, "; under mpirun, each rank's share)");
}

}  // namespace tessera::core
