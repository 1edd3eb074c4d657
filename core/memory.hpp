// How much memory this process may use, for checks that refuse a size before it is allocated.
#pragma once
#include <cstdint>

namespace tessera::core {

// The smaller of the machine's physical memory (sysconf) and this process's control-group limit
// (cgroup v2 memory.max, or v1 memory.limit_in_bytes), in bytes; 0 where neither can be read.
int64_t memory_limit_bytes();

// The processes of this job that run on this machine, and so share its memory and control group.
// The app frame (apps::run_app) sets it once from MPI's shared-memory communicator; it is 1 until
// something sets it (a library caller on one process).
void set_processes_on_this_machine(int count);
int processes_on_this_machine();
// memory_limit_bytes() / processes_on_this_machine(): what each may use when all of them build the
// same thing (every rank builds the mesh's hop masks, for one). 0 where the limit cannot be read.
int64_t memory_share_bytes();

}  // namespace tessera::core
