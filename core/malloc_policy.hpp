// How the process's CPU allocator treats the memory tensors free. A training step allocates and
// frees the same activations every step; with glibc's defaults the large ones are unmapped on free
// and page-faulted in afresh on the next step (4-13% of a MeshGraphNet step on one core,
// docs/benchmarks.md).
#pragma once

namespace tessera::core {

// The policy's glibc settings: no mmap for blocks under 32 MB (glibc's largest threshold), no
// trimming of the heap top; and the same as GLIBC_TUNABLES, for a peer process the benchmarks run
// under the same policy.
inline constexpr int kRetainedMmapThreshold = 32 << 20;
inline constexpr int kRetainedTrimThreshold = 2147483647;  // INT_MAX
inline constexpr const char* kRetainFreedMemoryTunables =
    "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=2147483647";

// Keeps freed CPU memory mapped in the process (glibc malloc: no trimming of the heap top, no mmap
// for blocks under 32 MB, glibc's largest threshold), once per process. Cost: the process keeps its
// peak heap. No-op elsewhere than glibc, or with the environment variable TESSERA_MALLOC_DEFAULT=1.
void retain_freed_memory();

// Gives the heap's free pages back to the system (glibc malloc_trim(0); the address space stays
// mapped), under either policy. For long loops that interleave allocations kept for the run with
// the model's large temporary ones, whose freed blocks then lie between kept ones where no trim of
// the heap top reaches them: a rollout writing each state as it is made grew its heap by 0.15 MB a
// step (4,000 steps of a 1,212-node mesh: 490 to 1,170 MB, with under 90 MB in use), and stays at
// 500 MB with this call every 256 steps (at no cost that its run time shows). No-op elsewhere
// than glibc.
void return_free_memory();

}  // namespace tessera::core
