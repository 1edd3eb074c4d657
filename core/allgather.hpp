// Allgather of variable-sized blocks over a Comm: every rank contributes counts[rank] values and
// every rank receives all of them in rank order. Used where each rank computes part of a field
// that every rank needs next (NeuralStagger's sub-solvers exchanging their pieces once a step).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/comm.hpp"

namespace tessera {

// `recv` holds the sum of `counts`; one collective (a copy on one rank). T: double or float.
template <class T>
void allgatherv(const Comm& comm, const T* send, T* recv, const std::vector<int64_t>& counts) {
  static_assert(std::is_same_v<T, double> || std::is_same_v<T, float>);
#if TESSERA_HAVE_MPI
  if (comm.size() > 1) {
    std::vector<int> n(counts.begin(), counts.end()), offset(counts.size(), 0);
    for (size_t r = 1; r < n.size(); ++r) offset[r] = offset[r - 1] + n[r - 1];
    const MPI_Datatype type = std::is_same_v<T, double> ? MPI_DOUBLE : MPI_FLOAT;
    MPI_Allgatherv(send, n[comm.rank()], type, recv, n.data(), offset.data(), type, comm.mpi());
    return;
  }
#endif
  std::copy(send, send + counts[comm.rank()], recv);
}

}  // namespace tessera
