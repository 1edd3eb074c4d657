// Products of a tall activation matrix with a small weight matrix (tens to a few hundred rows and
// columns), the shape of every layer of tessera's MLPs. MKL's GEMM reaches 72–87 GFLOP/s (fp32)
// and 40 (fp64) on them at one thread, much of it spent packing the tall operand and zeroing the
// output; libxsmm's JIT kernels, applied to panels of points with the activations read in place,
// reach 97–111 and 55 (docs/design.md). Contiguous fp32/fp64 CPU tensors go through libxsmm where
// the build has it (TESSERA_HAVE_XSMM in tessera/config.hpp) and it has a kernel for the shape;
// everything else (and anything autograd would record) through at::mm. Panels are split over
// torch's intra-op threads; each output element is computed by one kernel call whatever the
// threads, so results do not depend on them.
#pragma once
#include <ATen/core/Tensor.h>

namespace tessera::linalg {

// Rows per kernel call of the point-major products (product_with_weight and its variants): the
// m rows are cut into panels of this many from the first, the last one shorter. Row blocks that
// start at multiples of it give each row the same kernel call (linalg::mlp's blocks).
inline constexpr int64_t kPointMajorPanel = 16;

// Feature-major activations (the points along rows): w [rows, k] · h [k, m] -> [rows, m].
at::Tensor weight_product(const at::Tensor& w, const at::Tensor& h);

// Point-major activations (one point per row): x [m, k] · b [k, n] (+ bias [n] on every row)
// -> [m, n], then max(·, 0) with `relu`, applied while each panel of rows is in cache.
at::Tensor product_with_weight(const at::Tensor& x, const at::Tensor& b, const at::Tensor& bias = {},
                               bool relu = false);
// The same written into `out`: contiguous [m, n] of x's type, e.g. a range of rows of a larger
// tensor (linalg::mlp runs its layers block of rows by block of rows).
void product_with_weight_into(const at::Tensor& out, const at::Tensor& x, const at::Tensor& b,
                              const at::Tensor& bias = {}, bool relu = false);

// x [m, k] · b [k, n] + c [m, n] (if given) + table[index[r], :] on each row r (if given: table
// [t, n], index [m] int64), the additions made while each panel of rows is in cache: the gradient of
// a tensor with several consumers (a residual's, a product's, a gather's) in one pass instead of a
// result per consumer and a sum pass per extra one.
at::Tensor product_with_weight_plus(const at::Tensor& x, const at::Tensor& b, const at::Tensor& c,
                                    const at::Tensor& table = {}, const at::Tensor& index = {});
// The same written into `out` (contiguous [m, n] of x's type).
void product_with_weight_plus_into(const at::Tensor& out, const at::Tensor& x, const at::Tensor& b, const at::Tensor& c,
                                   const at::Tensor& table = {}, const at::Tensor& index = {});

// out = x [m, k] · b [k, n] + bias [n] (if given) + table_a[index_a[r], :] + table_b[index_b[r], :]
// on each row r, then max(·, 0) with `relu`, added in this order while each panel of rows is in
// cache: a layer whose input is split into a per-row block and two blocks applied per table row
// (a MeshGraphNet edge layer's sender and receiver blocks, applied per node: tables [t, n], indices
// [m] int64). out: contiguous [m, n] of x's type, e.g. a range of rows of a larger tensor.
void product_with_weight_gathered_into(const at::Tensor& out, const at::Tensor& x, const at::Tensor& b,
                                       const at::Tensor& bias, const at::Tensor& table_a, const at::Tensor& index_a,
                                       const at::Tensor& table_b, const at::Tensor& index_b, bool relu);

// The input gradient of a layer whose input was a ReLU's output: (g [m, k] · b [k, n]) ⊙ (mask > 0)
// for mask [m, n] (that output), the mask applied while each panel of rows is in cache, so the
// ReLU's backward needs no pass of its own.
at::Tensor product_with_weight_masked(const at::Tensor& g, const at::Tensor& b, const at::Tensor& mask);
// The same written into `out` (contiguous [m, n] of g's type).
void product_with_weight_masked_into(const at::Tensor& out, const at::Tensor& g, const at::Tensor& b,
                                     const at::Tensor& mask);

// The product with a bias, then each row's layer norm, as one pass over the rows while they are in
// cache: z = x · b + bias (kept for the backward), mean and rstd [m, 1] of each row of z (biased
// variance, as at::native_layer_norm), y = (z − mean) · rstd · gamma + beta (+ residual [m, n]).
struct NormedProduct {
  at::Tensor z, y, mean, rstd;
};
NormedProduct product_with_weight_layer_norm(const at::Tensor& x, const at::Tensor& b, const at::Tensor& bias,
                                             const at::Tensor& gamma, const at::Tensor& beta, double eps,
                                             const at::Tensor& residual = {});
// The same written into r's tensors: z and y contiguous [m, n], mean and rstd [m, 1], of x's type.
void product_with_weight_layer_norm_into(const NormedProduct& r, const at::Tensor& x, const at::Tensor& b,
                                         const at::Tensor& bias, const at::Tensor& gamma, const at::Tensor& beta,
                                         double eps, const at::Tensor& residual = {});

// The sum over a long shared dimension k: a [m, k] · bᵀ (b [n, k]) -> [m, n], both operands with k
// contiguous (the weight gradient g · hᵀ of a feature-major layer). Not libxsmm's (1.17 has no
// kernel for this layout) but tessera's register-tile kernel (kernels/cpu/transposed_product.cpp);
// the same operands as weight_product's go through at::mm instead.
at::Tensor product_with_transpose(const at::Tensor& a, const at::Tensor& b);

// wᵀ, contiguous, for a weight w [out, in] with unit column stride (a column block of a larger
// weight is fine): product_with_weight's operand. libxsmm's transposition where the build has it
// (ATen's strided copy took 16–27 µs on a 128 x 128 block, a few times the time of a plain copy).
at::Tensor transposed_weight(const at::Tensor& w);

// Whether these products use libxsmm in this build (for the benches' and tests' reports).
bool small_products_have_jit();

}  // namespace tessera::linalg
