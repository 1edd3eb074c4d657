#include "core/cores.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/memory.hpp"

namespace tessera::core {

namespace {
int online_cpus() {
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}
}  // namespace

int cores_available() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return online_cpus();
}

int cores_share() {
  // A mask may be shared too: Open MPI binds each rank to a whole socket at np > 2, so 8 ranks on
  // 2 sockets of 32 cores each see 32.
  return std::min(cores_available(), std::max(1, online_cpus() / processes_on_this_machine()));
}

std::string threads_warning(int64_t threads, const std::string& key) {
  const int cores = cores_available(), share = cores_share();
  if (threads <= share) return "";
  if (threads <= cores) {
    const int ranks = processes_on_this_machine();
    return cat("threads: ", threads, " per process, and ", ranks, " ranks on this machine share its ",
               counted(online_cpus(), "core", "cores"), ": ", threads * ranks,
               " threads wait for each other and slow the run down (set ", key, " to at most ", share,
               ", or bind each rank to cores of its own: mpirun --map-by slot:PE=<threads>)");
  }
  return cat("threads: ", threads, " per process, more than the ", core::counted(cores, "core", "cores"),
             " this process may run on: threads beyond the cores wait for each other and slow the run down (set ", key,
             " to at most ", cores, "; under mpirun, each rank's share)");
}

}  // namespace tessera::core
