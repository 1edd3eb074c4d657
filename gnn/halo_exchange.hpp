// Halo exchange for partitioned graphs (docs/references.md §5) as a differentiable op: the forward
// overwrites each halo row with the current value from its owning rank; the backward sends halo
// gradients back to the owners and adds them to the owned rows' gradients. With one rank (or
// without MPI) it is the identity. Collective: every rank of the communicator calls it.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/util/intrusive_ptr.h>

#include "core/comm.hpp"
#include "mesh/partition.hpp"

namespace tessera::gnn {

class HaloExchange {
 public:
  HaloExchange(const mesh::LocalGraph& local, const Comm& comm);
  HaloExchange(const HaloExchange&);
  HaloExchange& operator=(const HaloExchange&);
  ~HaloExchange();
  // x: [num_local, ...] (owned rows first). Returns x with halo rows refreshed.
  at::Tensor operator()(const at::Tensor& x) const;
  int64_t bytes_last() const;  // bytes this rank sent in the last forward (for benchmarks)
  struct Plan;

 private:
  c10::intrusive_ptr<Plan> plan_;  // shared with pending backward passes
};

}  // namespace tessera::gnn
