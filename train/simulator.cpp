#include "train/simulator.hpp"

#include <ATen/ATen.h>

#include "gnn/mesh_transformer.hpp"
#include "gnn/meshgraphnet.hpp"
#include "mesh/error.hpp"

namespace tessera::train {
namespace {

class TransformerSim : public Simulator {
public:
  TransformerSim(const gnn::TransformerConfig& c, int64_t dilation_layers) : net_(c), dilation_layers_(dilation_layers) {
    family_ = "transformer";
  }
  at::Tensor forward(const at::Tensor& x, const TrajectoryData& t) override {
    auto plan = gnn::mask_plan(net_->config(), t.attention, t.has_dilated() ? &t.dilated : nullptr,
                               t.has_dilated() ? dilation_layers_ : 0);
    return net_->forward(x, plan, t.pos.to(x.device(), x.scalar_type()));
  }
  torch::nn::Module& module() override { return *net_; }

private:
  gnn::MeshTransformer net_;
  int64_t dilation_layers_;
};

class MeshGraphNetSim : public Simulator {
public:
  explicit MeshGraphNetSim(const gnn::MeshGraphNetConfig& c) : net_(c) { family_ = "meshgraphnet"; }
  at::Tensor forward(const at::Tensor& x, const TrajectoryData& t) override {
    return net_->forward(x, t.edge_features.to(x.device(), x.scalar_type()), t.graph);
  }
  torch::nn::Module& module() override { return *net_; }

private:
  gnn::MeshGraphNet net_;
};

}  // namespace

void add_model_keys(io::Schema& s) {
  using io::KeyType;
  s.section("model", "the model family and its size");
  s.add("model.family", KeyType::Choice, "transformer",
        "transformer: graph transformer with adjacency-masked attention; meshgraphnet: MeshGraphNet baseline")
      .choices = {"transformer", "meshgraphnet"};
  s.add("model.latent", KeyType::Int, "64", "latent width (transformer d; MeshGraphNet latent size)").min = 1;
  s.add("model.layers", KeyType::Int, "4", "transformer blocks, or MeshGraphNet message-passing steps").min = 1;
  s.add("model.heads", KeyType::Int, "4", "attention heads (transformer; must divide latent)").min = 1;
  s.add("model.mlp_layers", KeyType::Int, "4", "Linear layers of the transformer encoder/decoder MLPs").min = 2;
  s.add("model.hidden_layers", KeyType::Int, "2", "hidden layers of every MeshGraphNet MLP").min = 1;
  s.add("model.rope", KeyType::Bool, "true",
        "rotary position embedding from node coordinates (transformer); without it attention cannot tell "
        "neighbours apart by direction");
  s.add("model.dilation_layers", KeyType::Int, "2",
        "last layers whose second half of heads use the dilated graph (when augment.dilation is on)")
      .min = 0;
}

std::unique_ptr<Simulator> make_simulator(const io::Deck& d, int64_t in_dim, int64_t out_dim) {
  const std::string family = d.get_string("model.family");
  if (family == "transformer") {
    gnn::TransformerConfig c;
    c.in_dim = in_dim;
    c.out_dim = out_dim;
    c.latent = d.get_int("model.latent");
    c.layers = d.get_int("model.layers");
    c.heads = d.get_int("model.heads");
    c.mlp_layers = static_cast<int>(d.get_int("model.mlp_layers"));
    c.rope = d.get_bool("model.rope");
    if (c.latent % c.heads) d.fail("model.heads", cat("must divide model.latent (", c.latent, ")"));
    const int64_t dl = d.get_int("model.dilation_layers");
    if (dl > c.layers) d.fail("model.dilation_layers", cat("exceeds model.layers (", c.layers, ")"));
    return std::make_unique<TransformerSim>(c, dl);
  }
  gnn::MeshGraphNetConfig c;
  c.node_in = in_dim;
  c.edge_in = 3;
  c.out_dim = out_dim;
  c.latent = d.get_int("model.latent");
  c.steps = d.get_int("model.layers");
  c.hidden_layers = static_cast<int>(d.get_int("model.hidden_layers"));
  return std::make_unique<MeshGraphNetSim>(c);
}

}  // namespace tessera::train
