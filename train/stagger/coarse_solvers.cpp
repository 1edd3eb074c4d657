#include "train/stagger/coarse_solvers.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.hpp"

namespace tessera::train::stagger {
namespace {

at::Tensor uniform(at::IntArrayRef shape, double bound, const at::TensorOptions& o) {
  return ((at::rand(shape, o) * 2 - 1) * bound).requires_grad_(true);
}

// Periodic padding then a convolution without padding: the coarse grids are periodic too (a
// staggered piece of a periodic field is periodic).
// An ungrouped convolution (a range of one solver, or the lift layer) runs in channels-last
// layout: on the CPU, oneDNN's plain-layout ungrouped kernel reached about half the throughput of
// the grouped one here (bench_stagger --profile), channels-last about the same as grouped; grouped
// convolutions are fastest in the plain layout.
at::Tensor periodic_conv(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, int64_t groups) {
  const int64_t p = w.size(-1) / 2;
  at::Tensor padded = p ? at::pad(x, {p, p, p, p}, "circular") : x;
  at::Tensor weight = w;
  const bool channels_last = groups == 1 && x.is_cpu();
  if (channels_last) {
    padded = padded.contiguous(at::MemoryFormat::ChannelsLast);
    weight = w.contiguous(at::MemoryFormat::ChannelsLast);
  }
  const at::Tensor y =
      at::conv2d(padded, weight, b, at::IntArrayRef{1, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, groups);
  // Back to the plain layout, which the grouped convolutions after it run fastest in.
  return channels_last ? y.contiguous() : y;
}

}  // namespace

CoarseSolverBank::CoarseSolverBank(const CoarseSolverShape& s, const at::TensorOptions& o) : shape_(s) {
  if (s.solvers < 1 || s.in_channels < 1 || s.width < 1 || s.blocks < 0 || s.kernel < 1 || s.kernel % 2 == 0)
    throw Error(cat("coarse solvers: bad shape (solvers ", s.solvers, ", inputs ", s.in_channels, ", width ", s.width,
                    ", blocks ", s.blocks, ", kernel ", s.kernel, ")"));
  const int64_t G = s.solvers, W = s.width, k = s.kernel;
  const double fan_lift = double(s.in_channels * k * k), fan = double(W * k * k);
  // He-uniform bound sqrt(6 / fan_in) for GELU layers; biases like torch's default.
  params_.insert("lift.weight", uniform({G * W, s.in_channels, k, k}, std::sqrt(6 / fan_lift), o));
  params_.insert("lift.bias", uniform({G * W}, 1 / std::sqrt(fan_lift), o));
  for (int64_t i = 0; i < s.blocks; ++i) {
    const std::string b = cat("block", i, ".");
    params_.insert(b + "conv1.weight", uniform({G * W, W, k, k}, std::sqrt(6 / fan), o));
    params_.insert(b + "conv1.bias", uniform({G * W}, 1 / std::sqrt(fan), o));
    // The block starts near zero, so depth does not blow up the initial output.
    params_.insert(b + "conv2.weight", uniform({G * W, W, k, k}, 0.1 * std::sqrt(3 / fan), o));
    params_.insert(b + "conv2.bias", at::zeros({G * W}, o).requires_grad_(true));
  }
  // A small projection: a fresh solver predicts almost no change of its piece.
  params_.insert("project.weight", uniform({G, W, k, k}, 0.01 * std::sqrt(3 / fan), o));
  params_.insert("project.bias", at::zeros({G}, o).requires_grad_(true));
}

int64_t CoarseSolverBank::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.value().numel();
  return n;
}

at::Tensor CoarseSolverBank::forward(const at::Tensor& x, int64_t first, int64_t last) const {
  const int64_t G = shape_.solvers, W = shape_.width;
  if (first < 0 || last > G || first > last)
    throw Error(cat("coarse solvers: range [", first, ", ", last, ") outside [0, ", G, ")"));
  if (x.dim() != 4 || x.size(1) != shape_.in_channels)
    throw Error(cat("coarse solvers: features must be [B, ", shape_.in_channels, ", n, n], got ", x.sizes()));
  const int64_t g = last - first;
  if (g == 0) return at::empty({x.size(0), 0, x.size(2), x.size(3)}, x.options());
  const auto slice = [&](const char* name, int64_t per) { return params_[name].narrow(0, first * per, g * per); };
  // Every solver of the range reads the same features: one ordinary convolution with g·W outputs.
  at::Tensor h = at::gelu(periodic_conv(x, slice("lift.weight", W), slice("lift.bias", W), 1));
  for (int64_t i = 0; i < shape_.blocks; ++i) {
    const std::string b = cat("block", i, ".");
    at::Tensor r = at::gelu(periodic_conv(h, params_[b + "conv1.weight"].narrow(0, first * W, g * W),
                                          params_[b + "conv1.bias"].narrow(0, first * W, g * W), g));
    r = periodic_conv(r, params_[b + "conv2.weight"].narrow(0, first * W, g * W),
                      params_[b + "conv2.bias"].narrow(0, first * W, g * W), g);
    h = at::gelu(h + r);
  }
  return periodic_conv(h, slice("project.weight", 1), slice("project.bias", 1), g);
}

}  // namespace tessera::train::stagger
