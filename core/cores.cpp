#include "core/cores.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"

namespace tessera::core {

int cores_available() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

namespace {
int online_cpus() {
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}
}  // namespace

int cores_share() {
  const int cores = cores_available();
  if (cores < online_cpus()) return cores;  // bound: these cores are this process's
  return std::max(1, cores / processes_on_this_machine());
}

std::string threads_warning(int64_t threads, const std::string& key) {
  const int cores = cores_available(), share = cores_share();
  if (threads <= share) return "";
  if (threads <= cores) {
    const int ranks = processes_on_this_machine();
    return cat("threads: ", threads, " per process, and ", ranks, " ranks on this machine may each run on all its ",
               counted(cores, "core", "cores"), ": ", threads * ranks,
               " threads wait for each other and slow the run down (set ", key, " to at most ", share,
               ", or bind each rank to cores of its own: mpirun --map-by slot:PE=<threads>)");
  }
  return cat("threads: ", threads, " per process, more than the ", core::counted(cores, "core", "cores"),
             " this process may run on: threads beyond the cores wait for each other and slow the run down (set ", key,
             " to at most ", cores, "; under mpirun, each rank's share)");
}

}  // namespace tessera::core
