#include "train/simulator.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace tessera::train {
namespace {

class TransformerSim : public Simulator {
 public:
  TransformerSim(const gnn::TransformerConfig& c, int64_t dilation_layers)
      : net_(c), dilation_layers_(dilation_layers) {
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

std::unique_ptr<Simulator> make_simulator(const ModelOptions& o, int64_t in_dim, int64_t out_dim) {
  if (o.bundle < 1) throw Error(cat("model.bundle must be >= 1 (got ", o.bundle, ")"), "model.bundle");
  std::unique_ptr<Simulator> sim;
  if (o.family == "transformer") {
    gnn::TransformerConfig c = o.transformer;
    c.in_dim = in_dim;
    c.out_dim = out_dim * o.bundle;
    sim = std::make_unique<TransformerSim>(c, o.dilation_layers);
  } else if (o.family == "meshgraphnet") {
    gnn::MeshGraphNetConfig c = o.meshgraphnet;
    c.node_in = in_dim;
    c.edge_in = 3;
    c.out_dim = out_dim * o.bundle;
    sim = std::make_unique<MeshGraphNetSim>(c);
  } else {
    throw Error(cat("unknown mesh simulator family '", o.family, "'"), "model.family");
  }
  sim->set_bundle(o.bundle);
  return sim;
}

}  // namespace tessera::train
