#include "gnn/deep_gcn.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <type_traits>

#include "core/cpu_clones.hpp"
#include "core/error.hpp"
#include "gnn/kernels/segment_sum.hpp"

namespace tessera::gnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Tensor long_tensor(const std::vector<int64_t>& v) {
  return at::tensor(at::ArrayRef<int64_t>(v), at::kLong).clone();
}

struct Aggregate : torch::autograd::Function<Aggregate> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& src, const at::Tensor& weight,
                            const at::Tensor& dst_ptr, const at::Tensor& dst_by_src, const at::Tensor& weight_by_src,
                            const at::Tensor& src_ptr) {
    ctx->save_for_backward({dst_by_src, weight_by_src, src_ptr});
    return kernels::weighted_gather_sum(x, dst_ptr, src, weight);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    auto s = ctx->get_saved_variables();
    // Source j receives weight[e] * g[dst[e]] over its edges e, in the source-sorted order.
    return {kernels::weighted_gather_sum(grad[0].contiguous(), s[2], s[0], s[1]), {}, {}, {}, {}, {}, {}};
  }
};

uint64_t splitmix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

DeepGcnKind deep_gcn_kind(const std::string& name) {
  if (name == "gcn") return DeepGcnKind::Gcn;
  if (name == "sage") return DeepGcnKind::Sage;
  if (name == "gcnii") return DeepGcnKind::Gcnii;
  if (name == "resgcn+") return DeepGcnKind::ResGcnPlus;
  throw Error(cat("unknown deep GCN '", name, "' (gcn, sage, gcnii, resgcn+)"));
}

std::string deep_gcn_name(DeepGcnKind k) {
  switch (k) {
    case DeepGcnKind::Gcn:
      return "gcn";
    case DeepGcnKind::Sage:
      return "sage";
    case DeepGcnKind::Gcnii:
      return "gcnii";
    case DeepGcnKind::ResGcnPlus:
      return "resgcn+";
  }
  return "";
}

NormalizedGraph normalized_adjacency(const mesh::Graph& g) {
  NormalizedGraph a;
  a.num_nodes = g.num_nodes;
  std::vector<double> deg(g.num_nodes, 1.0);
  for (int64_t e = 0; e < g.num_edges(); ++e) deg[g.dst[e]] += 1;
  a.row_ptr.assign(g.num_nodes + 1, 0);
  a.src.reserve(g.num_edges() + g.num_nodes);
  for (int64_t i = 0; i < g.num_nodes; ++i) {
    bool self = false;
    for (int64_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) {
      const int64_t s = g.src[e];
      if (!self && s > i) {
        a.src.push_back(i);
        self = true;
      }
      if (s != i) a.src.push_back(s);
    }
    if (!self) a.src.push_back(i);
    a.row_ptr[i + 1] = static_cast<int64_t>(a.src.size());
  }
  a.dst.resize(a.src.size());
  a.weight.resize(a.src.size());
  for (int64_t i = 0; i < g.num_nodes; ++i)
    for (int64_t e = a.row_ptr[i]; e < a.row_ptr[i + 1]; ++e) {
      a.dst[e] = i;
      a.weight[e] = 1.0 / std::sqrt(deg[i] * deg[a.src[e]]);
    }
  return a;
}

WeightedEdges weighted_edges(int64_t num_dst, int64_t num_src, const std::vector<int64_t>& dst,
                             const std::vector<int64_t>& src, const std::vector<double>& weight, at::ScalarType dtype) {
  const int64_t e = static_cast<int64_t>(src.size());
  if (static_cast<int64_t>(dst.size()) != e || static_cast<int64_t>(weight.size()) != e)
    throw Error("weighted_edges: src, dst and weight differ in length");
  WeightedEdges w;
  w.num_dst = num_dst;
  w.num_src = num_src;
  std::vector<int64_t> ptr(num_dst + 1, 0), sptr(num_src + 1, 0);
  for (int64_t k = 0; k < e; ++k) {
    if (dst[k] < 0 || dst[k] >= num_dst || src[k] < 0 || src[k] >= num_src || (k && dst[k] < dst[k - 1]))
      throw Error("weighted_edges: ids out of range or destinations unsorted");
    ++ptr[dst[k] + 1];
    ++sptr[src[k] + 1];
  }
  for (int64_t i = 0; i < num_dst; ++i) ptr[i + 1] += ptr[i];
  for (int64_t i = 0; i < num_src; ++i) sptr[i + 1] += sptr[i];
  // The transposed CSR: each edge's destination and weight in the order of its source (edges of
  // one source in their input order).
  std::vector<int64_t> fill(sptr.begin(), sptr.end() - 1), dst_by_src(e);
  std::vector<double> weight_by_src(e);
  for (int64_t k = 0; k < e; ++k) {
    const int64_t j = fill[src[k]]++;
    dst_by_src[j] = dst[k];
    weight_by_src[j] = weight[k];
  }
  const auto weights = [&](const std::vector<double>& v) {
    return at::tensor(at::ArrayRef<double>(v), at::kDouble).to(dtype).reshape({e, 1});
  };
  w.src = long_tensor(src);
  w.weight = weights(weight);
  w.dst_ptr = long_tensor(ptr);
  w.src_ptr = long_tensor(sptr);
  w.dst_by_src = long_tensor(dst_by_src);
  w.weight_by_src = weights(weight_by_src);
  return w;
}

at::Tensor aggregate(const at::Tensor& x, const WeightedEdges& a) {
  if (x.size(0) != a.num_src) throw Error(cat("aggregate: ", x.size(0), " source rows for ", a.num_src, " expected"));
  const at::ScalarType t = x.scalar_type();
  return Aggregate::apply(x, a.src, a.weight.to(t), a.dst_ptr, a.dst_by_src, a.weight_by_src.to(t), a.src_ptr);
}

uint64_t dropout_key(uint64_t seed, int64_t epoch, int64_t site) {
  return splitmix(splitmix(splitmix(seed) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(site));
}

namespace {

// One row's mask: element f is dropped when the top 53 bits k of splitmix(base + f) give
// k * 2^-53 < p, tested as k < ceil(p * 2^53) (the same bits: k is an integer), so the loop is
// integer work the compiler vectorises for AVX2 (it has no 64-bit integer-to-double conversion).
template <class T>
TESSERA_CPU_CLONES void dropout_row(uint64_t base, uint64_t threshold, T kept, T* d, int64_t features) {
  for (int64_t f = 0; f < features; ++f)
    d[f] = (splitmix(base + static_cast<uint64_t>(f)) >> 11) < threshold ? T(0) : kept;
}

}  // namespace

at::Tensor dropout_mask(uint64_t key, const std::vector<int64_t>& rows, int64_t features, double p,
                        at::ScalarType dtype) {
  const int64_t n = static_cast<int64_t>(rows.size());
  const double scale = 1.0 / (1.0 - p);
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(p * 0x1.0p53));
  // Written in the model's type (float or double) directly, rows in parallel: the mask is drawn
  // for every layer and for the input features every epoch (a tenth of a Cora epoch was spent
  // here when it was drawn in double on one thread and converted). The same values either way:
  // each element depends only on (key, row id, feature).
  auto fill = [&](auto* d) {
    using T = std::remove_pointer_t<decltype(d)>;
    const T kept = static_cast<T>(scale);
    at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        dropout_row(splitmix(key ^ (static_cast<uint64_t>(rows[i]) * 0x632be59bd9b4e019ULL)), threshold, kept,
                    d + i * features, features);
    });
  };
  if (dtype == at::kFloat || dtype == at::kDouble) {
    at::Tensor m = at::empty({n, features}, at::TensorOptions().dtype(dtype));
    if (dtype == at::kFloat)
      fill(m.data_ptr<float>());
    else
      fill(m.data_ptr<double>());
    return m;
  }
  at::Tensor m = at::empty({n, features}, at::kDouble);
  fill(m.data_ptr<double>());
  return m.to(dtype);
}

DeepGcnImpl::DeepGcnImpl(const DeepGcnConfig& c) : config_(c) {
  if (c.layers < 1) throw Error("deep GCN: layers must be >= 1");
  auto uniform = [](std::vector<int64_t> shape, double bound) { return at::empty(shape).uniform_(-bound, bound); };
  const double b_in = 1.0 / std::sqrt(static_cast<double>(c.in));
  const double b_h = 1.0 / std::sqrt(static_cast<double>(c.hidden));
  fc0_w_ = register_parameter("fc0_weight", uniform({c.hidden, c.in}, b_in));
  fc0_b_ = register_parameter("fc0_bias", uniform({c.hidden}, b_in));
  for (int64_t l = 1; l <= c.layers; ++l) {
    const std::string p = cat("conv", l, "_");
    w_.push_back(register_parameter(p + "weight", uniform({c.hidden, c.hidden}, b_h)));
    if (c.kind == DeepGcnKind::Sage)
      w_self_.push_back(register_parameter(p + "weight_self", uniform({c.hidden, c.hidden}, b_h)));
    if (c.kind != DeepGcnKind::Gcnii) b_.push_back(register_parameter(p + "bias", at::zeros({c.hidden})));
    if (c.kind == DeepGcnKind::ResGcnPlus) {
      ln_w_.push_back(register_parameter(p + "norm_weight", at::ones({c.hidden})));
      ln_b_.push_back(register_parameter(p + "norm_bias", at::zeros({c.hidden})));
    }
  }
  fc1_w_ = register_parameter("fc1_weight", uniform({c.classes, c.hidden}, b_h));
  fc1_b_ = register_parameter("fc1_bias", uniform({c.classes}, b_h));
}

at::Tensor DeepGcnImpl::input(const at::Tensor& x) const { return at::relu(at::linear(x, fc0_w_, fc0_b_)); }

at::Tensor DeepGcnImpl::output(const at::Tensor& h) const { return at::linear(h, fc1_w_, fc1_b_); }

at::Tensor DeepGcnImpl::pre(int64_t l, const at::Tensor& h, const at::Tensor& mask) const {
  at::Tensor z = h;
  if (config_.kind == DeepGcnKind::ResGcnPlus)
    z = at::relu(at::layer_norm(h, {config_.hidden}, ln_w_[l - 1], ln_b_[l - 1], 1e-5));
  return mask.defined() ? z * mask : z;
}

at::Tensor DeepGcnImpl::post(int64_t l, const at::Tensor& agg, const at::Tensor& z, const at::Tensor& h,
                             const at::Tensor& h0) const {
  const at::Tensor& w = w_[l - 1];
  switch (config_.kind) {
    case DeepGcnKind::Gcn:
      return at::relu(at::linear(agg, w, b_[l - 1]));
    case DeepGcnKind::Sage:
      return at::relu(at::linear(z, w_self_[l - 1]) + at::linear(agg, w, b_[l - 1]));
    case DeepGcnKind::Gcnii: {
      const double beta = std::log(config_.lambda / static_cast<double>(l) + 1.0);
      const at::Tensor support = (1.0 - config_.alpha) * agg + config_.alpha * h0;
      return at::relu(beta * at::matmul(support, w) + (1.0 - beta) * support);
    }
    case DeepGcnKind::ResGcnPlus:
      return h + at::linear(agg, w, b_[l - 1]);
  }
  return h;
}

std::vector<at::Tensor> DeepGcnImpl::site_parameters(int64_t l) const {
  if (l == 0) return {fc0_w_, fc0_b_};
  if (l == config_.layers + 1) return {fc1_w_, fc1_b_};
  std::vector<at::Tensor> p{w_[l - 1]};
  if (!w_self_.empty()) p.push_back(w_self_[l - 1]);
  if (!b_.empty()) p.push_back(b_[l - 1]);
  if (!ln_w_.empty()) {
    p.push_back(ln_w_[l - 1]);
    p.push_back(ln_b_[l - 1]);
  }
  return p;
}

}  // namespace tessera::gnn
