#include "train/fused_adamw.hpp"

#include <ATen/ATen.h>
#include <ATen/ops/_fused_adamw.h>

#include <map>
#include <tuple>
#include <vector>

#include "core/error.hpp"

namespace tessera::train {

torch::Tensor FusedAdamW::step(LossClosure closure) {
  // The kernel indexes parameters, gradients and moments as flat arrays.
  for (const auto& group : param_groups_) {
    bool plain = !static_cast<const torch::optim::AdamWOptions&>(group.options()).amsgrad();
    for (const auto& p : group.params()) plain = plain && p.is_contiguous();
    if (!plain) return torch::optim::AdamW::step(std::move(closure));
  }
  at::NoGradGuard no_grad;
  at::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    // The kernel wants its lists on one device and in one dtype.
    struct Lists {
      std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    };
    std::map<std::tuple<int, int, int>, Lists> by_kind;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      if (p.grad().is_sparse()) throw Error("FusedAdamW: sparse gradients are not supported");
      auto& slot = state_[p.unsafeGetTensorImpl()];
      if (!slot) {  // first step of this parameter: zero moments, as torch::optim::AdamW
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(0);
        s->exp_avg(at::zeros_like(p, at::MemoryFormat::Contiguous));
        s->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Contiguous));
        slot = std::move(s);
      }
      auto& s = static_cast<torch::optim::AdamWParamState&>(*slot);
      if (!s.exp_avg().is_contiguous()) s.exp_avg(s.exp_avg().contiguous());  // e.g. restored from elsewhere
      if (!s.exp_avg_sq().is_contiguous()) s.exp_avg_sq(s.exp_avg_sq().contiguous());
      s.step(s.step() + 1);
      // The kernel reads the step count (already advanced, as in PyTorch's fused path) from a
      // float tensor on the parameter's device; the int64 count in the state stays the record.
      auto& l = by_kind[{static_cast<int>(p.device().type()), p.device().index(), static_cast<int>(p.scalar_type())}];
      l.params.push_back(p);
      l.grads.push_back(p.grad().contiguous());
      l.exp_avgs.push_back(s.exp_avg());
      l.exp_avg_sqs.push_back(s.exp_avg_sq());
      l.steps.push_back(at::full({}, static_cast<double>(s.step()), p.options().dtype(at::kFloat)));
    }
    for (auto& [kind, l] : by_kind)
      at::_fused_adamw_(l.params, l.grads, l.exp_avgs, l.exp_avg_sqs, {}, l.steps, o.lr(), std::get<0>(o.betas()),
                        std::get<1>(o.betas()), o.weight_decay(), o.eps(), /*amsgrad=*/false, /*maximize=*/false);
  }
  return loss;
}

}  // namespace tessera::train
