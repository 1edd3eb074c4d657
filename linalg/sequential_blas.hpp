// SequentialBlas: while one lives, the BLAS products its thread calls run on that thread alone.
// For the chunks and blocks that tessera runs on torch's intra-op threads (outer_product_sum, the
// MLP's row blocks, the PINN jet's blocks): their results are meant to depend on the chunks only,
// not on the thread count. The MKL inside libtorch does not keep to one thread there by itself:
// with torch's 2 threads set, a product called inside a parallel region gave other bits than at 1
// thread (torch 2.15's MKL 2024.2 on an AVX-512 Xeon; docs/design.md). MKL's thread-local count
// (MKL_Set_Num_Threads_Local) is set to 1 and restored; a libtorch without MKL (OpenBLAS builds)
// has no such function and nothing is done.
#pragma once

namespace tessera::linalg {

class SequentialBlas {
 public:
  SequentialBlas();
  ~SequentialBlas();
  SequentialBlas(const SequentialBlas&) = delete;
  SequentialBlas& operator=(const SequentialBlas&) = delete;

 private:
  int previous_ = 0;  // MKL's thread-local count before (0: none, the global count applies)
};

}  // namespace tessera::linalg
