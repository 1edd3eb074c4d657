#include "train/optimizer_state.hpp"

#include <ATen/ATen.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <memory>

#include "core/error.hpp"
#include "train/model_io.hpp"

namespace tessera::train {

void pack_adamw_state(Checkpoint& c, const NamedParameters& params, torch::optim::Optimizer& adamw) {
  for (const auto& p : params) {
    auto it = adamw.state().find(p.value().unsafeGetTensorImpl());
    if (it == adamw.state().end()) continue;
    auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
    c.tensors["optim." + p.key() + ".exp_avg"] = s.exp_avg();
    c.tensors["optim." + p.key() + ".exp_avg_sq"] = s.exp_avg_sq();
    c.tensors["optim." + p.key() + ".step"] = at::tensor({s.step()}, at::kLong);
  }
}

void require_parameter_count(const Checkpoint& c, const std::string& path, const std::string& prefix, size_t count,
                             const std::string& other, const std::string& key) {
  const auto stored =
      std::count_if(c.tensors.begin(), c.tensors.end(), [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
  if (stored != static_cast<std::ptrdiff_t>(count))
    throw Error(cat(path, ": holds ", stored, " parameter tensors, the deck's model has ", count, " (", other, ")"),
                key);
}

void unpack_parameters(const Checkpoint& c, const std::string& path, NamedParameters& params, const std::string& key) {
  require_parameter_count(c, path, "model.", params.size(), "another network?", key);
  at::NoGradGuard no_grad;
  for (auto& p : params) {
    const auto it = c.tensors.find("model." + p.key());
    if (it == c.tensors.end() || it->second.sizes() != p.value().sizes())
      throw Error(cat(path, ": parameter ", p.key(), " is missing or has another shape (another network?)"), key);
    p.value().copy_(it->second);
  }
}

void unpack_adamw_state(const Checkpoint& c, const std::string& path, const NamedParameters& params,
                        torch::optim::Optimizer& adamw) {
  for (const auto& p : params) {
    const std::string name = "optim." + p.key();
    if (!c.tensors.count(name + ".exp_avg") && !c.tensors.count(name + ".exp_avg_sq") &&
        !c.tensors.count(name + ".step"))
      continue;  // no state: the rest of its state missing is damage (checkpoint_tensor names it)
    // A damaged moment would not fail: it would steer every later step (NaN: a "diverged" loss
    // steps later, naming nothing). A parameter without state (never given a gradient) has none.
    const auto moment = [&](const std::string& suffix, bool squares) -> const at::Tensor& {
      const at::Tensor& m = checkpoint_tensor(c, path, name + suffix);
      if (m.sizes() != p.value().sizes())
        throw Error(cat(path, ": optimiser tensor '", name, suffix, "' has shape ", m.sizes(), ", its parameter ",
                        p.value().sizes(), "; the checkpoint is damaged"));
      if (!at::isfinite(m).all().item<bool>() || (squares && (m < 0).any().item<bool>()))
        throw Error(cat(path, ": optimiser tensor '", name, suffix, "' holds ",
                        squares ? "negative or non-finite" : "non-finite", " values; the checkpoint is damaged"));
      return m;
    };
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    const at::TensorOptions to = p.value().options();
    s->exp_avg(moment(".exp_avg", false).to(to).clone());
    s->exp_avg_sq(moment(".exp_avg_sq", true).to(to).clone());
    s->step(checkpoint_tensor(c, path, name + ".step").item<int64_t>());
    adamw.state()[p.value().unsafeGetTensorImpl()] = std::move(s);
  }
}

}  // namespace tessera::train
