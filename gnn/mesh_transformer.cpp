#include "gnn/mesh_transformer.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "core/error.hpp"
#include "gnn/kernels/pointwise.hpp"
#include "gnn/sparse_attention.hpp"
#include "linalg/linear.hpp"

namespace tessera::gnn {

std::vector<LayerMask> mask_plan(const TransformerConfig& c, const EdgeIndex& base, const EdgeIndex* dilated,
                                 int64_t dilation_layers) {
  if (dilation_layers < 0 || dilation_layers > c.layers)
    throw Error(cat("mask_plan: dilation layers must be in [0, ", c.layers, "], got ", dilation_layers));
  std::vector<LayerMask> plan;
  for (int64_t l = 0; l < c.layers; ++l) {
    if (dilated && l >= c.layers - dilation_layers && c.heads >= 2)
      plan.push_back({{&base, c.heads - c.heads / 2}, {dilated, c.heads / 2}});
    else
      plan.push_back({{&base, c.heads}});
  }
  return plan;
}

namespace {

// The rotation angles theta [N, A * P] in `type`: pair p of axis a (column a * P + p) turns by
// pos[:, a] * scale * 10000^(-p / P), P = head_dim / (2 A).
at::Tensor rope_angles(const at::Tensor& pos, int64_t head_dim, double scale, at::ScalarType type) {
  const int64_t axes = pos.size(1), pairs = head_dim / (2 * axes);
  if (pairs == 0) throw Error(cat("rotary embedding needs head dim >= ", 2 * axes, ", got ", head_dim));
  at::Tensor k = at::arange(pairs, pos.options().dtype(type));
  at::Tensor freq = scale * at::pow(10000.0, -k / double(pairs));               // [P]
  return (pos.to(type).unsqueeze(2) * freq).view({pos.size(0), axes * pairs});  // [N, A * P]
}

}  // namespace

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& pos, double scale) {
  const at::ScalarType type = x.scalar_type();
  if (type != at::kFloat && type != at::kDouble) return apply_rope_real(x, pos, scale);
  // Pair (x[2i], x[2i+1]) is the complex number x[2i] + i x[2i+1], turned by exp(i theta).
  const int64_t n = x.size(0), h = x.size(1), d = x.size(2);
  const at::Tensor theta = rope_angles(pos, d, scale, type);
  const int64_t rotated = 2 * theta.size(1);
  at::Tensor turn = at::polar(at::ones_like(theta), theta).view({n, 1, rotated / 2});
  at::Tensor z = at::view_as_complex(x.narrow(2, 0, rotated).contiguous().view({n, h, rotated / 2, 2}));
  at::Tensor out = at::view_as_real(z * turn).view({n, h, rotated});
  if (rotated < d) out = at::cat({out, x.narrow(2, rotated, d - rotated)}, 2);
  return out;
}

at::Tensor apply_rope_real(const at::Tensor& x, const at::Tensor& pos, double scale) {
  // Angles in pos's dtype (the caller's choice: at least fp32 under mixed precision).
  const RopeTable t = rope_table(pos, x.size(2), scale, pos.scalar_type());
  return kernels::rotate_pairs(x, t.cos, t.sin);
}

RopeTable rope_table(const at::Tensor& pos, int64_t head_dim, double scale, at::ScalarType type) {
  const at::Tensor theta = rope_angles(pos, head_dim, scale, type);
  return {at::cos(theta), at::sin(theta)};
}

GraphAttentionImpl::GraphAttentionImpl(int64_t dim, int64_t heads, bool rope, double rope_scale)
    : heads_(heads), rope_(rope), rope_scale_(rope_scale) {
  if (heads < 1 || dim % heads) throw Error(cat("attention: latent ", dim, " is not divisible by ", heads, " heads"));
  qkv_ = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
  proj_ = register_module("proj", torch::nn::Linear(dim, dim));
}

at::Tensor GraphAttentionImpl::forward(const at::Tensor& x, const LayerMask& mask, const at::Tensor& pos,
                                       RopeTable* table) {
  const int64_t n = x.size(0), dim = x.size(1), hd = dim / heads_;
  auto qkv = linalg::linear(x, qkv_->weight, qkv_->bias).view({n, 3, heads_, hd});
  at::Tensor q = qkv.select(1, 0), k = qkv.select(1, 1), v = qkv.select(1, 2);
  if (rope_ && !pos.defined()) throw Error("attention: rotary embedding needs node coordinates");
  const bool fp = q.scalar_type() == at::kFloat || q.scalar_type() == at::kDouble;
  if (rope_ && fp && !at::GradMode::is_enabled() && qkv.device().is_cpu() && qkv.is_contiguous()) {
    // Inference: the table once per forward (kept in *table), then q and k rotated and q, k, v
    // split into contiguous tensors in one pass.
    RopeTable local;
    RopeTable& t = table ? *table : local;
    if (!t.cos.defined() || t.cos.scalar_type() != q.scalar_type() || t.cos.size(0) != n)
      t = rope_table(pos, hd, rope_scale_, q.scalar_type());
    std::tie(q, k, v) = kernels::rope_split_inference(qkv, t.cos, t.sin);
  } else if (rope_) {
    // Angles in at least fp32: bf16 coordinates (mixed precision) would be ~1% off, coarser than the mesh.
    const at::Tensor p = pos.to(at::promote_types(q.scalar_type(), at::kFloat));
    // q and k as one [N, 2 heads, hd] view (qkv's rows hold q then k): one rotation table for both
    // and one pass, the same values as rotating each.
    const at::Tensor qk = apply_rope(qkv.narrow(1, 0, 2).view({n, 2 * heads_, hd}), p, rope_scale_);
    q = qk.narrow(1, 0, heads_);
    k = qk.narrow(1, heads_, heads_);
  }
  int64_t covered = 0;
  for (const auto& g : mask) covered += g.heads;
  if (covered != heads_) throw Error(cat("attention: the layer mask covers ", covered, " heads of ", heads_));
  const bool same_dtype = k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type();
  if (fp && same_dtype && !at::GradMode::is_enabled()) {
    // Inference: every head group writes its heads of one output, reading q, k, v in place.
    const at::Tensor out = at::empty({n, heads_, hd}, q.options());
    int64_t h0 = 0;
    for (const auto& g : mask) {
      sparse_attention_into(q.narrow(1, h0, g.heads), k.narrow(1, h0, g.heads), v.narrow(1, h0, g.heads), *g.graph,
                            out.narrow(1, h0, g.heads));
      h0 += g.heads;
    }
    return linalg::linear(out.view({n, dim}), proj_->weight, proj_->bias);
  }
  std::vector<at::Tensor> outs;
  int64_t h0 = 0;
  for (const auto& g : mask) {
    outs.push_back(
        sparse_attention(q.narrow(1, h0, g.heads), k.narrow(1, h0, g.heads), v.narrow(1, h0, g.heads), *g.graph));
    h0 += g.heads;
  }
  return linalg::linear(at::cat(outs, 1).reshape({n, dim}), proj_->weight, proj_->bias);
}

MeshTransformerImpl::MeshTransformerImpl(const TransformerConfig& c) : config_(c) {
  if (c.in_dim < 1 || c.out_dim < 1 || c.layers < 1)
    throw Error("transformer: in_dim, out_dim and layers must be positive");
  encoder_ = register_module("encoder", make_mlp(c.in_dim, c.latent, c.latent, c.mlp_layers - 1, false, "silu"));
  decoder_ = register_module("decoder", make_mlp(c.latent, c.latent, c.out_dim, c.mlp_layers - 1, false, "silu"));
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string s = std::to_string(l);
    norm1_.push_back(register_module("norm1_" + s, RMSNorm(c.latent)));
    attn_.push_back(register_module("attn_" + s, GraphAttention(c.latent, c.heads, c.rope, c.rope_scale)));
    norm2_.push_back(register_module("norm2_" + s, RMSNorm(c.latent)));
    mlp_.push_back(register_module("mlp_" + s, GatedMLP(c.latent, c.mlp_ratio * c.latent)));
  }
}

namespace {

// h + d; in inference in place in h (the transformer's own sum, no one else holds it) when h
// already has the sum's type: under autocast d may be fp32 with h in bf16, and h + d is fp32.
at::Tensor add_residual(at::Tensor h, const at::Tensor& d) {
  if (!at::GradMode::is_enabled() && h.sizes() == d.sizes() && at::result_type(h, d) == h.scalar_type())
    return h.add_(d);
  return h + d;
}

}  // namespace

at::Tensor MeshTransformerImpl::forward(const at::Tensor& x, const std::vector<LayerMask>& masks,
                                        const at::Tensor& pos) {
  if (masks.size() != 1 && static_cast<int64_t>(masks.size()) != config_.layers)
    throw Error(cat("transformer: ", masks.size(), " layer masks for ", config_.layers, " layers"));
  at::Tensor h = mlp_forward(encoder_, x);
  RopeTable table;  // made by the first layer that needs it (inference), shared by the others
  for (int64_t l = 0; l < config_.layers; ++l) {
    const LayerMask& m = masks.size() == 1 ? masks[0] : masks[l];
    // Each branch is computed before h is handed over: argument evaluation order is unspecified.
    at::Tensor a = attn_[l]->forward(norm1_[l]->forward(h), m, pos, &table);
    h = add_residual(std::move(h), a);
    at::Tensor f = mlp_[l]->forward(norm2_[l]->forward(h));
    h = add_residual(std::move(h), f);
  }
  return mlp_forward(decoder_, h);
}

}  // namespace tessera::gnn
