// Exponentials over arrays, vectorised: with AVX-512 an inline exp (Cephes' polynomial and
// vscalefps, within 1.2e-7 relative), with AVX2 the SLEEF exp that ATen's own CPU kernels use
// (libtorch exports it; 1 ulp). A scalar std::exp per element cost the attention forward a quarter
// of its time and SiLU as an ATen op two passes over memory (docs/design.md, "inference kernels").
#pragma once
#include <cstdint>

namespace tessera::gnn::kernels::cpu {

// x[i] = exp(x[i]) for i < n.
void exp_inplace(float* x, int64_t n);
void exp_inplace(double* x, int64_t n);

// out[i] = silu(g[i]) * u[i] with silu(g) = g / (1 + exp(-g)), ATen's formula; u == nullptr: silu
// alone. out may alias g.
void silu_mul(const float* g, const float* u, float* out, int64_t n);
void silu_mul(const double* g, const double* u, double* out, int64_t n);

}  // namespace tessera::gnn::kernels::cpu
