#include "train/normalizer.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace tessera::train {

Normalizer::Normalizer(std::string name, int64_t channels, int64_t max_accumulations, double eps)
    : name_(std::move(name)), max_acc_(max_accumulations), eps_(eps) {
  count = at::zeros({1}, at::kDouble);
  sum = at::zeros({channels}, at::kDouble);
  sumsq = at::zeros({channels}, at::kDouble);
}

void Normalizer::accumulate(const at::Tensor& x, const Comm& comm) {
  if (x.dim() != 2 || x.size(1) != sum.size(0))
    throw Error(cat("normalizer ", name_, ": expected [rows, ", sum.size(0), "], got ", x.sizes()));
  if (accumulations >= max_acc_) return;
  at::Tensor d = x.detach().to(at::kCPU, at::kDouble);
  // [count, sum..., sumsq...] of this rank's rows, summed over ranks in one reduction.
  at::Tensor inc = at::cat({at::full({1}, double(d.size(0)), at::kDouble), d.sum(0), d.pow(2).sum(0)}).contiguous();
  comm.allreduce_sum(inc.data_ptr<double>(), inc.numel());
  const int64_t c = sum.size(0);
  count += inc.narrow(0, 0, 1);
  sum += inc.narrow(0, 1, c);
  sumsq += inc.narrow(0, 1 + c, c);
  ++accumulations;
}

at::Tensor Normalizer::mean() const { return sum / count.clamp_min(1); }

at::Tensor Normalizer::std() const {
  return at::sqrt(at::clamp_min(sumsq / count.clamp_min(1) - mean().pow(2), 0)).clamp_min(eps_);
}

at::Tensor Normalizer::normalize(const at::Tensor& x) const {
  return (x - mean().to(x.options())) / std().to(x.options());
}

at::Tensor Normalizer::inverse(const at::Tensor& x) const { return x * std().to(x.options()) + mean().to(x.options()); }

}  // namespace tessera::train
