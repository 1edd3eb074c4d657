// Exponentials over arrays, vectorised: an inline exp (Cephes' polynomial, within 1.2e-7 relative)
// on 16 lanes with AVX-512 (2^n by vscalefps) and on 8 with AVX2 (2^n as two exact powers of two):
// the same bits on either. A scalar std::exp per element cost the attention forward a quarter of its
// time, SiLU as an ATen op two passes over memory, and SLEEF's exp (a call) 7% of a rollout on an
// AVX2 CPU (docs/design.md, "inference kernels").
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

// The float versions by one ISA's code, whatever the CPU would choose: for tests that the AVX2 and
// AVX-512 paths give the same bits. False (x, out untouched) where this CPU or build lacks the ISA.
enum class VectorIsa { avx512, avx2 };
bool exp_inplace_by(VectorIsa isa, float* x, int64_t n);
bool silu_mul_by(VectorIsa isa, const float* g, const float* u, float* out, int64_t n);

}  // namespace tessera::gnn::kernels::cpu
