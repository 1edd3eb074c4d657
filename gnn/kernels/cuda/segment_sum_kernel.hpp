// Launchers of the CUDA segment_sum kernel, free of torch headers so that nvcc compiles the .cu
// quickly; the torch-facing wrapper lives in segment_sum_cuda.cpp.
#pragma once
#include <cstdint>

#include "gnn/kernels/cuda/dtype.hpp"

namespace tessera::gnn::kernels::cuda {

// out[n, f] = segment sums of values[*, f] (see segment_sum.hpp); out need not be zeroed. With
// weight (nullable; one entry per perm entry, values' type) each row perm[k] is scaled by
// weight[k]: weighted_gather_sum.
void launch_segment_sum(DType dtype, const void* values, const int64_t* ptr, const int64_t* perm, const void* weight,
                        void* out, int64_t n, int64_t f, void* stream);

}  // namespace tessera::gnn::kernels::cuda
