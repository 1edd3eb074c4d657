// Gather of variable-sized blocks to rank 0: every rank contributes `bytes` bytes, and rank 0
// receives them all in rank order (other ranks receive nothing). Used where rank 0 writes a file
// from blocks that the ranks hold (io::DatasetWriter).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/comm.hpp"
#include "core/error.hpp"

namespace tessera {

// On rank 0: the blocks in rank order; elsewhere empty. Collective.
inline std::vector<char> gather_to_root(const Comm& comm, const void* data, int64_t bytes) {
  std::vector<char> all;
#if TESSERA_HAVE_MPI
  if (comm.size() > 1) {
    std::vector<int64_t> n(comm.size());
    // Every rank learns every count, so that all refuse a gather that is too large together.
    MPI_Allgather(&bytes, 1, MPI_INT64_T, n.data(), 1, MPI_INT64_T, comm.mpi());
    std::vector<int> count(n.size()), offset(n.size(), 0);
    int64_t total = 0;
    for (size_t r = 0; r < n.size(); ++r) {
      // MPI counts are int: 2 GiB or more cannot travel in one gather.
      if (n[r] < 0 || total + n[r] > INT32_MAX)
        throw Error(cat("gather_to_root: ", total + n[r], " bytes to gather; at most 2 GiB per call"));
      offset[r] = static_cast<int>(total), count[r] = static_cast<int>(n[r]), total += n[r];
    }
    if (comm.root()) all.resize(static_cast<size_t>(total));
    MPI_Gatherv(data, static_cast<int>(bytes), MPI_BYTE, all.data(), count.data(), offset.data(), MPI_BYTE, 0,
                comm.mpi());
    return all;
  }
#endif
  all.resize(static_cast<size_t>(bytes));
  if (bytes > 0) std::memcpy(all.data(), data, static_cast<size_t>(bytes));
  return all;
}

}  // namespace tessera
