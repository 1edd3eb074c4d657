#include "gnn/layers.hpp"

#include <ATen/core/grad_mode.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/normalization.h>

#include "core/error.hpp"
#include "gnn/kernels/pointwise.hpp"
#include "linalg/linear.hpp"

namespace tessera::gnn {

torch::nn::Sequential make_mlp(int64_t in, int64_t hidden, int64_t out, int hidden_layers, bool layer_norm,
                               const std::string& activation) {
  torch::nn::Sequential s;
  int64_t width = in;
  for (int l = 0; l < hidden_layers; ++l) {
    s->push_back(torch::nn::Linear(width, hidden));
    if (activation == "relu")
      s->push_back(torch::nn::ReLU());
    else if (activation == "silu")
      s->push_back(torch::nn::SiLU());
    else if (activation == "gelu")
      s->push_back(torch::nn::GELU());
    else
      throw Error(cat("unknown activation '", activation, "' (expected relu, silu or gelu)"));
    width = hidden;
  }
  s->push_back(torch::nn::Linear(width, out));
  if (layer_norm) s->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({out})));
  return s;
}

bool as_mlp_layers(const torch::nn::Sequential& mlp, size_t first, linalg::MlpLayers& l) {
  const auto is_relu = [&](size_t i) {
    return i < mlp->size() && dynamic_cast<torch::nn::ReLUImpl*>(mlp->ptr(i).get());
  };
  size_t i = first;
  if (is_relu(i)) l.input_relu = true, ++i;
  while (i < mlp->size()) {
    auto* lin = dynamic_cast<torch::nn::LinearImpl*>(mlp->ptr(i).get());
    if (!lin) return false;
    l.weights.push_back(lin->weight);
    l.biases.push_back(lin->bias);
    if (i + 2 < mlp->size() && is_relu(i + 1)) {  // a hidden layer, another Linear after it
      i += 2;
      continue;
    }
    if (i + 1 == mlp->size()) return true;
    auto* norm = dynamic_cast<torch::nn::LayerNormImpl*>(mlp->ptr(i + 1).get());
    if (i + 2 != mlp->size() || !norm || norm->options.normalized_shape().size() != 1 ||
        !norm->options.elementwise_affine())
      return false;
    l.gamma = norm->weight, l.beta = norm->bias, l.eps = norm->options.eps();
    return true;
  }
  return false;
}

at::Tensor mlp_forward(const torch::nn::Sequential& mlp, at::Tensor x, size_t first, bool x_owned,
                       const at::Tensor& residual) {
  // One fused node for the whole MLP (linalg::mlp: the ReLUs, the norm and the residual in the
  // products' panels, the ReLUs' backward in the input gradients' panels).
  if (linalg::MlpLayers layers; as_mlp_layers(mlp, first, layers)) return linalg::mlp(x, layers, residual);
  for (size_t i = first; i < mlp->size(); ++i) {
    const std::shared_ptr<torch::nn::Module> m = mlp->ptr(i);
    if (auto* lin = dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      // linalg::linear (libxsmm on the CPU, addmm elsewhere) saves its inputs, not its result: the
      // result may be modified in place.
      x = linalg::linear(x, lin->weight, lin->bias);
      x_owned = true;
    } else if (dynamic_cast<torch::nn::ReLUImpl*>(m.get()) && x_owned) {
      x.relu_();
    } else if (dynamic_cast<torch::nn::SiLUImpl*>(m.get()) && x_owned && !at::GradMode::is_enabled()) {
      kernels::silu_mul_(x, {});  // inference: in place, one pass
    } else {
      x = (mlp.ptr()->begin() + static_cast<std::ptrdiff_t>(i))->forward(x);
      x_owned = false;  // an activation may have saved its result for the backward
    }
  }
  if (!residual.defined()) return x;
  return x_owned ? x.add_(residual) : x + residual;
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight_ = register_parameter("weight", at::ones({dim}));
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x_in) {
  // The mean square in at least fp32: in bf16 (mixed precision) its rounding would scale every row.
  const bool half = x_in.scalar_type() == at::kBFloat16 || x_in.scalar_type() == at::kHalf;
  // Inference: one pass per row instead of six ATen ops and their temporaries.
  if (!half && !at::GradMode::is_enabled()) return kernels::rms_norm_inference(x_in, weight_, eps_);
  return kernels::rms_norm(half ? x_in.to(at::kFloat) : x_in, weight_, eps_);
}

GatedMLPImpl::GatedMLPImpl(int64_t dim, int64_t hidden) {
  gate_ = register_module("gate", torch::nn::Linear(torch::nn::LinearOptions(dim, hidden).bias(false)));
  up_ = register_module("up", torch::nn::Linear(torch::nn::LinearOptions(dim, hidden).bias(false)));
  down_ = register_module("down", torch::nn::Linear(torch::nn::LinearOptions(hidden, dim).bias(false)));
}

at::Tensor GatedMLPImpl::forward(const at::Tensor& x) {
  at::Tensor gate = linalg::linear(x, gate_->weight);
  const at::Tensor up = linalg::linear(x, up_->weight);
  if (!at::GradMode::is_enabled()) {
    // Inference: silu(gate) * up in place in gate's fresh buffer, one pass.
    kernels::silu_mul_(gate, up);
    return linalg::linear(gate, down_->weight);
  }
  return linalg::linear(torch::nn::functional::silu(gate) * up, down_->weight);
}

}  // namespace tessera::gnn
