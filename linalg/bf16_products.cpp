#include "linalg/bf16_products.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/nn/module.h>

#include "core/cpu_clones.hpp"
#include "core/error.hpp"
#include "linalg/small_products_detail.hpp"

#if TESSERA_HAVE_XSMM
#include <immintrin.h>
#endif

namespace tessera::linalg {
namespace {

thread_local const Bf16Products* current_scope = nullptr;

// Points per kernel call: their rows are rounded to bf16 into a buffer that stays in L1.
constexpr int64_t kPanel = 16;

// y[r, :] += bias over `rows` rows of width n (built for AVX2 too: the baseline's SSE2 loop was 6%
// of a bf16 rollout's samples).
TESSERA_CPU_CLONES void add_bias_rows(float* __restrict__ y, const float* __restrict__ bias, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) y[r * n + j] += bias[j];
}

#if TESSERA_HAVE_XSMM
// in[0..n) rounded to nearest even bf16, 16 at a time with AVX512-BF16's own conversion (which the
// kernels' CPUs have; libxsmm's portable rounding took as long as the bf16 products saved).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void round_to_bf16(const float* in,
                                                                                   libxsmm_bfloat16* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(in + i)));
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm256_mask_storeu_epi16(out + i, tail, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(tail, in + i)));
  }
}
#endif

}  // namespace

bool bf16_products_available() {
#if TESSERA_HAVE_XSMM
  static const bool available = [] {
    libxsmm_init();
    const float alpha = 1, beta = 0;
    const int flags = LIBXSMM_GEMM_FLAG_VNNI_A;
    return libxsmm_get_target_archid() >= LIBXSMM_X86_AVX512_CPX &&
           libxsmm_bsmmdispatch(64, kPanel, 64, nullptr, nullptr, nullptr, &alpha, &beta, &flags, nullptr) != nullptr;
  }();
  return available;
#else
  return false;
#endif
}

Bf16Products::Bf16Products(const std::vector<at::Tensor>& weights) : previous_(current_scope) {
  if (!bf16_products_available())
    throw Error("bf16 products: this build or CPU has no bf16 matrix kernels (libxsmm with AVX512-BF16)");
  for (const at::Tensor& w : weights) entries_[w.unsafeGetTensorImpl()] = {w, pack_weight_bf16(w)};
  current_scope = this;
}

Bf16Products::~Bf16Products() { current_scope = previous_; }

const Bf16Products* Bf16Products::current() { return current_scope; }

const at::Tensor* Bf16Products::packed(const at::Tensor& weight) const {
  const auto it = entries_.find(weight.unsafeGetTensorImpl());
  return it == entries_.end() ? nullptr : &it->second.packed;
}

std::vector<at::Tensor> matrix_weights(const torch::nn::Module& module) {
  std::vector<at::Tensor> weights;
  for (const at::Tensor& p : module.parameters())
    if (p.dim() == 2 && p.scalar_type() == at::kFloat) weights.push_back(p);
  return weights;
}

at::Tensor pack_weight_bf16(const at::Tensor& weight) {
  if (weight.dim() != 2 || weight.scalar_type() != at::kFloat || !weight.device().is_cpu())
    throw Error(cat("bf16 products: a weight must be fp32 [out, in] on the CPU, got ", weight.sizes(), " ",
                    weight.scalar_type()));
  const int64_t out = weight.size(0), in = weight.size(1), pairs = (in + 1) / 2;
  // [out, 2 pairs] zero-padded, rounded, then pairs moved outermost: [pairs, out, 2].
  const at::Tensor padded = at::zeros({out, 2 * pairs}, weight.options());
  padded.narrow(1, 0, in).copy_(weight.detach());
  return padded.to(at::kBFloat16).view({out, pairs, 2}).transpose(0, 1).contiguous();
}

at::Tensor product_with_bf16_weight(const at::Tensor& x_in, const at::Tensor& packed, const at::Tensor& bias) {
  const int64_t pairs = packed.size(0), n = packed.size(1), k2 = 2 * pairs;
  if (x_in.dim() != 2 || x_in.scalar_type() != at::kFloat || (x_in.size(1) + 1) / 2 != pairs)
    throw Error(cat("bf16 products: x must be fp32 [m, in] with in matching the weight, got ", x_in.sizes()));
  if (bias.defined() && (bias.numel() != n || bias.scalar_type() != at::kFloat))
    throw Error(cat("bf16 products: bias must be fp32 [", n, "], got ", bias.sizes()));
  const at::Tensor x = x_in.contiguous(), b = bias.defined() ? bias.contiguous() : at::Tensor();
  const int64_t m = x.size(0), k = x.size(1);
  at::Tensor y = at::empty({m, n}, x.options());
  if (m == 0) return y;
#if TESSERA_HAVE_XSMM
  // Column-major as in small_products.cpp: yᵀ [n, m] = wᵀ [n, k2] (VNNI pairs) · xᵀ [k2, m].
  const float alpha = 1, beta = 0;
  const int flags = LIBXSMM_GEMM_FLAG_VNNI_A;
  const libxsmm_blasint ldn = n, ldk = k2;
  const int64_t rest = m % kPanel;
  const auto full = libxsmm_bsmmdispatch(n, kPanel, k2, &ldn, &ldk, &ldn, &alpha, &beta, &flags, nullptr);
  const auto last = rest ? libxsmm_bsmmdispatch(n, rest, k2, &ldn, &ldk, &ldn, &alpha, &beta, &flags, nullptr) : full;
  if (!full || !last) throw Error(cat("bf16 products: libxsmm has no bf16 kernel for ", n, " x ", k2));
  const auto* w = reinterpret_cast<const libxsmm_bfloat16*>(packed.data_ptr<at::BFloat16>());
  const float *px = x.data_ptr<float>(), *pb = b.defined() ? b.data_ptr<float>() : nullptr;
  float* py = y.data_ptr<float>();
  at::parallel_for(0, (m + kPanel - 1) / kPanel, 1, [&](int64_t begin, int64_t end) {
    std::vector<libxsmm_bfloat16> xb(kPanel * k2, 0);  // odd k: the pad column stays 0
    for (int64_t p = begin; p < end; ++p) {
      const int64_t start = p * kPanel, size = std::min(kPanel, m - start);
      if (k == k2)  // the panel's rows are one stretch in x and in the buffer: one call
        round_to_bf16(px + start * k, xb.data(), size * k);
      else
        for (int64_t r = 0; r < size; ++r) round_to_bf16(px + (start + r) * k, xb.data() + r * k2, k);
      float* yp = py + start * n;
      (size == kPanel ? full : last)(w, xb.data(), yp);
      if (pb) add_bias_rows(yp, pb, size, n);
    }
  });
  return y;
#else
  throw Error("bf16 products: this build has no libxsmm");
#endif
}

}  // namespace tessera::linalg
