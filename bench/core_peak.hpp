// One core's peak rate of the instructions behind the CPU matrix products: fp32 FMA and
// AVX512-BF16's dot product (VDPBF16PS, two bf16 products summed into each fp32 lane), both on
// 512-bit registers. Whether `rollout.precision: bf16` can pay on a CPU follows from their ratio:
// on a Zen 4 the dot product does twice the FMA's flops per cycle, on an Emerald Rapids Xeon
// (without AMX) half of them, so there bf16 products are slower than fp32 ones whatever the kernel
// (docs/benchmarks.md). Where the CPU has AVX512-FP16, its FMA on fp16 (32 lanes, accumulating in
// fp16) too: the one instruction with twice fp32's rate on that Xeon, though no product kernel of
// the libraries tessera calls uses it (docs/benchmarks.md). Printed beside bench_rollout's bf16 rows.
#pragma once
#include <algorithm>
#include <chrono>
#include <optional>
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#endif

namespace tessera::bench {

struct CorePeak {
  double fp32_fma_gflops = 0;  // vfmadd231ps zmm: 16 lanes x 2 flops per instruction
  double bf16_dot_gflops = 0;  // vdpbf16ps zmm: 32 bf16 pairs x 2 flops per instruction
  double fp16_fma_gflops = 0;  // vfmadd231ph zmm: 32 lanes x 2 flops; 0 without AVX512-FP16
};

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
namespace detail {
// 24 independent accumulators, enough to cover either instruction's latency at its throughput.
constexpr int kChains = 24;

// GFLOP/s of `iterations` rounds of one instruction on every accumulator: fp32 FMA (16 lanes x 2
// flops) or, with Bf16, the bf16 dot product (32 pairs x 2 flops). Built for AVX512-BF16 in both
// cases: measure_core_peak runs it only where the CPU has it.
template <bool Bf16>
__attribute__((target("avx512f,avx512bf16"))) inline double chain_gflops(long iterations) {
  __m512 acc[kChains], x = _mm512_set1_ps(1.0001f), y = _mm512_set1_ps(0.9999f);
  __m512bh xb = (__m512bh)_mm512_set1_epi16(0x3f80), yb = xb;  // bf16 1.0
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
  const auto start = std::chrono::steady_clock::now();
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int c = 0; c < kChains; ++c) acc[c] = Bf16 ? _mm512_dpbf16_ps(acc[c], xb, yb) : _mm512_fmadd_ps(x, y, acc[c]);
    asm volatile("" : "+v"(x), "+v"(xb));  // keeps the loop from being folded
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int c = 1; c < kChains; ++c) acc[0] = _mm512_add_ps(acc[0], acc[c]);
  asm volatile("" ::"v"(acc[0]));
  return double(iterations) * kChains * (Bf16 ? 64 : 32) / seconds * 1e-9;
}

// The same for AVX512-FP16's FMA on 32 fp16 lanes, in a function of its own so that only it is
// built for AVX512-FP16.
__attribute__((target("avx512f,avx512fp16"))) inline double fp16_fma_gflops(long iterations) {
  __m512h acc[kChains], x = _mm512_set1_ph(_Float16(1.0f)), y = x;
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ph(_Float16(float(c)));
  const auto start = std::chrono::steady_clock::now();
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ph(x, y, acc[c]);
    asm volatile("" : "+v"(x));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int c = 1; c < kChains; ++c) acc[0] = _mm512_add_ph(acc[0], acc[c]);
  asm volatile("" ::"v"(acc[0]));
  return double(iterations) * kChains * 64 / seconds * 1e-9;
}
}  // namespace detail
#endif

// Best of three ~0.1 s timings of each; nothing on a CPU (or compiler) without AVX512-BF16.
inline std::optional<CorePeak> measure_core_peak() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bf16")) return std::nullopt;
  CorePeak best;
  for (int repeat = 0; repeat < 3; ++repeat) {
    best.fp32_fma_gflops = std::max(best.fp32_fma_gflops, detail::chain_gflops<false>(10'000'000));
    best.bf16_dot_gflops = std::max(best.bf16_dot_gflops, detail::chain_gflops<true>(10'000'000));
    if (__builtin_cpu_supports("avx512fp16"))
      best.fp16_fma_gflops = std::max(best.fp16_fma_gflops, detail::fp16_fma_gflops(10'000'000));
  }
  return best;
#else
  return std::nullopt;
#endif
}

}  // namespace tessera::bench
