// AdamW whose step is ATen's fused kernel (at::_fused_adamw_): one pass over each parameter,
// its gradient and its two moments, where torch::optim::AdamW makes about ten (mul_, add_,
// addcmul_, sqrt, div, add_, addcdiv_ ... each reading and writing whole tensors). Same options,
// the same AdamWParamState per parameter and the same arithmetic up to rounding, so checkpoints
// (train/optimizer_state.hpp) and every caller of torch::optim::AdamW stay as they are.
#pragma once
#include <torch/optim/adamw.h>

namespace tessera::train {

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  // amsgrad groups take torch::optim::AdamW's path (the fused kernel would need a third moment
  // list we do not keep); sparse gradients are refused as there.
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace tessera::train
