// Comm: the MPI communicator a component runs on, or a one-rank stand-in in builds without MPI,
// so library code never needs #if around rank/size queries.
#pragma once
#include <cstdint>
#include <string>
#include <type_traits>

#include "tessera/config.hpp"
#if TESSERA_HAVE_MPI
#include <mpi.h>
#endif

namespace tessera {

class Comm {
 public:
#if TESSERA_HAVE_MPI
  explicit Comm(MPI_Comm c = MPI_COMM_WORLD) : comm_(c) {
    int init = 0;
    MPI_Initialized(&init);
    if (init) {
      MPI_Comm_rank(c, &rank_);
      MPI_Comm_size(c, &size_);
    }
  }
  MPI_Comm mpi() const { return comm_; }
  void barrier() const {
    if (size_ > 1) MPI_Barrier(comm_);
  }
#else
  Comm() = default;
  void barrier() const {}
#endif
  // In-place sums / maxima over all ranks (no-ops on one rank); T: double, float or int64_t.
  template <class T>
  void allreduce_sum(T* data, int64_t n) const {
    allreduce(data, n, true);
  }
  template <class T>
  void allreduce_max(T* data, int64_t n) const {
    allreduce(data, n, false);
  }
  // A communicator of this process alone (serial work inside an MPI run).
  static Comm self() {
#if TESSERA_HAVE_MPI
    return Comm(MPI_COMM_SELF);
#else
    return Comm();
#endif
  }
  // This rank's index among the ranks sharing its node (one GPU per local rank). Collective.
  int node_rank() const {
#if TESSERA_HAVE_MPI
    if (size_ == 1) return 0;
    MPI_Comm local;
    MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    int r = 0;
    MPI_Comm_rank(local, &r);
    MPI_Comm_free(&local);
    return r;
#else
    return 0;
#endif
  }
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }

 private:
  template <class T>
  void allreduce(T* data, int64_t n, bool sum) const {
#if TESSERA_HAVE_MPI
    static_assert(std::is_same_v<T, double> || std::is_same_v<T, float> || std::is_same_v<T, int64_t>);
    const MPI_Datatype type = std::is_same_v<T, double>  ? MPI_DOUBLE
                              : std::is_same_v<T, float> ? MPI_FLOAT
                                                         : MPI_INT64_T;
    if (size_ > 1) MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), type, sum ? MPI_SUM : MPI_MAX, comm_);
#endif
  }
#if TESSERA_HAVE_MPI
  MPI_Comm comm_ = MPI_COMM_WORLD;
#endif
  int rank_ = 0, size_ = 1;
};

}  // namespace tessera
