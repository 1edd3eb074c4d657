// The layer product of a feature-major MLP, out = w · h, with w [rows, k] a weight matrix (tens of
// rows and columns) and h [k, m] activations whose long dimension m runs over points. MKL's GEMM
// reaches 78–87 GFLOP/s (fp32) and 40 (fp64) on these shapes at 1 thread, much of it spent packing
// h and zeroing out; libxsmm's JIT kernels, applied to panels of 128 points with h read in place,
// reach 111 and 55 (docs/design.md). The PINN jet spends most of its step in these products.
#pragma once
#include <ATen/core/Tensor.h>

namespace tessera::physics {

// w [rows, k] · h [k, m] -> [rows, m]; any tensors at::mm takes. Contiguous fp32/fp64 CPU tensors
// go through libxsmm where the build has it (TESSERA_WITH_XSMM) and it has a kernel for the shape;
// everything else (and anything autograd would record) through at::mm.
at::Tensor weight_product(const at::Tensor& w, const at::Tensor& h);

// Whether weight_product uses libxsmm in this build (for the bench's and tests' reports).
bool weight_product_has_jit();

}  // namespace tessera::physics
