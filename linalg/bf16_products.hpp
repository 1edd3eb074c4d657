// Inference with bf16 products: the weights rounded to bf16 once, each panel of activations
// rounded as it is multiplied, accumulation and outputs in fp32 (libxsmm's bf16 kernels: two bf16
// products per fp32 lane and instruction on CPUs with AVX512-BF16). Everything else of the model
// stays fp32, so nothing else changes: the kernels, the norms and the state keep their precision.
#pragma once
#include <ATen/core/Tensor.h>

#include <unordered_map>
#include <vector>

namespace torch::nn {
class Module;
}

namespace tessera::linalg {

// Whether this build and CPU have libxsmm's bf16 kernels (AVX512-BF16).
bool bf16_products_available();

// While alive on this thread, linalg::linear without autograd, on an fp32 CPU input, multiplies
// by any of `weights` (fp32 [out, in], e.g. a model's Linear weights) in bf16 as above; other
// weights, grad mode and other dtypes are untouched. The weights must not change while it lives
// (it keeps their bf16 copies). Throws where bf16_products_available() is false. Scopes nest.
class Bf16Products {
 public:
  explicit Bf16Products(const std::vector<at::Tensor>& weights);
  ~Bf16Products();
  Bf16Products(const Bf16Products&) = delete;
  Bf16Products& operator=(const Bf16Products&) = delete;

  // The scope of this thread, or null.
  static const Bf16Products* current();
  // `weight`'s packed bf16 copy if the scope holds it, else null.
  const at::Tensor* packed(const at::Tensor& weight) const;

 private:
  struct Entry {
    at::Tensor weight;  // held, so its TensorImpl (the key) cannot be reused while the scope lives
    at::Tensor packed;
  };
  std::unordered_map<const void*, Entry> entries_;
  const Bf16Products* previous_;
};

// A module's fp32 weight matrices (its 2-D fp32 parameters): what a Bf16Products scope for a
// model's inference holds.
std::vector<at::Tensor> matrix_weights(const torch::nn::Module& module);

// weight [out, in] fp32 as libxsmm's bf16 kernels take it: rounded to nearest even, in VNNI
// pairs along `in` ([ceil(in / 2), out, 2], the odd tail padded with 0).
at::Tensor pack_weight_bf16(const at::Tensor& weight);

// x [m, in] fp32 contiguous times the packed weight's transpose, plus bias [out] if defined:
// y [m, out] fp32.
at::Tensor product_with_bf16_weight(const at::Tensor& x, const at::Tensor& packed, const at::Tensor& bias);

}  // namespace tessera::linalg
