#include "gnn/kernels/cpu/vector_exp.hpp"

#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TESSERA_VECTOR_EXP_X86 1
#else
#define TESSERA_VECTOR_EXP_X86 0
#endif

namespace tessera::gnn::kernels::cpu {
namespace {

#if TESSERA_VECTOR_EXP_X86
#if defined(__clang__)  // clang ignores #pragma GCC target; the lambdas inside need the target too
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif
// exp(x) inline (SLEEF's exp is a call the compiler cannot inline or overlap with the loop around
// it: SiLU took 1.6x as long with it, docs/design.md "inference kernels"): x = n ln2 + r with |r| <= ln2/2, exp(r) by
// Cephes' expf polynomial, 2^n by vscalefps (which also gives inf above and 0 below the float range). NaN stays NaN:
// min and max return their second operand when either is NaN.
__attribute__((target("avx512f"), always_inline)) inline __m512 exp16(__m512 x) {
  const __mmask16 all = 0xFFFF;
  x = _mm512_maskz_max_ps(all, _mm512_set1_ps(-104.0f), _mm512_maskz_min_ps(all, _mm512_set1_ps(89.0f), x));
  const __m512 n = _mm512_maskz_roundscale_ps(all, _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);  // ln2 in two parts: n ln2 exact
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_scalef_ps(all, p, n);
}

__attribute__((target("avx512f"))) void exp_avx512(float* x, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(x + i, m, exp16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

__attribute__((target("avx512f"))) void silu_mul_avx512(const float* g, const float* u, float* out, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(m, g + i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
    __m512 y = _mm512_div_ps(x, _mm512_add_ps(one, e));
    if (u) y = _mm512_mul_ps(y, _mm512_maskz_loadu_ps(m, u + i));
    _mm512_mask_storeu_ps(out + i, m, y);
  }
}
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)  // clang ignores #pragma GCC target; the lambdas inside need the target too
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
// exp16's algorithm on 8 lanes without AVX-512 (inline for the same reason: SLEEF's call was 7% of a
// rollout's samples on an AVX2-only EPYC). No vscalefps: 2^n is two exact powers of two, 2^(n >> 1)
// and 2^(n - (n >> 1)), each a normal float for n in [-150, 128] (x clamped to [-104, 89]); p times
// the first is exact, times the second rounds once, as vscalefps does: the same bits as exp16,
// denormals, 0 below and inf above the float range included. NaN stays NaN (as in exp16).
__attribute__((target("avx2,fma"), always_inline)) inline __m256 exp8(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(89.0f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);  // ln2 in two parts: n ln2 exact
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i ni = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(ni, 1), bias = _mm256_set1_epi32(127);
  const auto pow2 = [&](__m256i e) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, bias), 23)); };
  return _mm256_mul_ps(_mm256_mul_ps(p, pow2(half)), pow2(_mm256_sub_epi32(ni, half)));
}

__attribute__((target("avx2,fma"))) void exp_avx2(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, exp8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)), lanes);
    _mm256_maskstore_ps(x + i, m, exp8(_mm256_maskload_ps(x + i, m)));
  }
}

__attribute__((target("avx2,fma"))) void silu_mul_avx2(const float* g, const float* u, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  auto block = [&](__m256 x, __m256 up) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), up);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, block(_mm256_loadu_ps(g + i), u ? _mm256_loadu_ps(u + i) : one));
  if (i < n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n - i)), lanes);
    const __m256 up = u ? _mm256_maskload_ps(u + i, m) : one;
    _mm256_maskstore_ps(out + i, m, block(_mm256_maskload_ps(g + i, m), up));
  }
}
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

enum class Isa { avx512, avx2, scalar };
Isa isa() {
  static const Isa chosen = __builtin_cpu_supports("avx512f")                                 ? Isa::avx512
                            : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? Isa::avx2
                                                                                              : Isa::scalar;
  return chosen;
}
#endif

template <class T>
void exp_scalar(T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}

template <class T>
void silu_mul_scalar(const T* g, const T* u, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T y = g[i] / (T(1) + std::exp(-g[i]));
    out[i] = u ? y * u[i] : y;
  }
}

}  // namespace

void exp_inplace(float* x, int64_t n) {
#if TESSERA_VECTOR_EXP_X86
  if (isa() == Isa::avx512) return exp_avx512(x, n);
  if (isa() == Isa::avx2) return exp_avx2(x, n);
#endif
  exp_scalar(x, n);
}

void exp_inplace(double* x, int64_t n) { exp_scalar(x, n); }

void silu_mul(const float* g, const float* u, float* out, int64_t n) {
#if TESSERA_VECTOR_EXP_X86
  if (isa() == Isa::avx512) return silu_mul_avx512(g, u, out, n);
  if (isa() == Isa::avx2) return silu_mul_avx2(g, u, out, n);
#endif
  silu_mul_scalar(g, u, out, n);
}

void silu_mul(const double* g, const double* u, double* out, int64_t n) { silu_mul_scalar(g, u, out, n); }

bool exp_inplace_by(VectorIsa want, float* x, int64_t n) {
#if TESSERA_VECTOR_EXP_X86
  if (want == VectorIsa::avx512 && isa() == Isa::avx512) return exp_avx512(x, n), true;
  if (want == VectorIsa::avx2 && isa() != Isa::scalar) return exp_avx2(x, n), true;  // AVX-512 CPUs have AVX2
#endif
  return false;
}

bool silu_mul_by(VectorIsa want, const float* g, const float* u, float* out, int64_t n) {
#if TESSERA_VECTOR_EXP_X86
  if (want == VectorIsa::avx512 && isa() == Isa::avx512) return silu_mul_avx512(g, u, out, n), true;
  if (want == VectorIsa::avx2 && isa() != Isa::scalar) return silu_mul_avx2(g, u, out, n), true;
#endif
  return false;
}

}  // namespace tessera::gnn::kernels::cpu
