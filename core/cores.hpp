// How many cores this process may run on, to tell a user whose thread count exceeds them.
#pragma once
#include <cstdint>
#include <string>

namespace tessera::core {

// The CPUs in this process's affinity mask (what mpirun's binding or taskset left it), else the
// machine's online CPUs.
int cores_available();

// This process's share of the cores: the machine's CPUs divided among the ranks on it
// (processes_on_this_machine(), at least 1), and no more than cores_available() where it is bound
// to fewer (mpirun's binding, Slurm's --cpus-per-task).
int cores_share();

// "" when `threads` per process fit in cores_share(); else a warning naming `key`, the key that
// sets them: threads beyond the cores wait for each other (a 2-step rollout at 1,024 threads on 2
// cores ran past a minute, against 10 s at 1; unbound ranks of 2 threads each, 3 on 2 cores).
std::string threads_warning(int64_t threads, const std::string& key);

}  // namespace tessera::core
