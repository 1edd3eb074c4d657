#include "train/gradients.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace tessera::train {

void allreduce_gradients(const Comm& comm, const std::vector<at::Tensor>& parameters) {
  if (comm.size() == 1) return;
  std::vector<at::Tensor> params = parameters;  // handles: their grads are set through these
  std::vector<int64_t> has(params.size());
  for (size_t i = 0; i < params.size(); ++i) has[i] = params[i].mutable_grad().defined();
  comm.allreduce_max(has.data(), static_cast<int64_t>(has.size()));
  std::vector<at::Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!has[i]) continue;
    if (!params[i].mutable_grad().defined()) params[i].mutable_grad() = at::zeros_like(params[i]);
    grads.push_back(params[i].mutable_grad());
  }
  if (grads.empty()) return;
  std::vector<at::Tensor> flat_parts;
  for (const auto& g : grads) flat_parts.push_back(g.reshape(-1));
  at::Tensor flat = at::cat(flat_parts).cpu().contiguous();
  if (flat.scalar_type() == at::kFloat)
    comm.allreduce_sum(flat.data_ptr<float>(), flat.numel());
  else if (flat.scalar_type() == at::kDouble)
    comm.allreduce_sum(flat.data_ptr<double>(), flat.numel());
  else
    throw Error(cat("gradient all-reduce: unsupported dtype ", flat.scalar_type()));
  int64_t offset = 0;
  for (auto& g : grads) {
    g.copy_(flat.narrow(0, offset, g.numel()).view(g.sizes()));
    offset += g.numel();
  }
}

}  // namespace tessera::train
