#include "train/model_io.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdlib>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/dataset.hpp"
#include "io/deck.hpp"
#include "train/mesh_sim_family.hpp"

namespace tessera::train {

const at::Tensor& checkpoint_tensor(const Checkpoint& c, const std::string& path, const std::string& name) {
  auto it = c.tensors.find(name);
  if (it == c.tensors.end()) throw Error(cat(path, ": checkpoint lacks tensor '", name, "'"));
  return it->second;
}

void pack_model(Checkpoint& c, Simulator& model, const Normalizers& norms) {
  for (const auto& p : model.module().named_parameters()) c.tensors["model." + p.key()] = p.value();
  for (const Normalizer* n : {&norms.node, &norms.target}) {
    c.tensors["norm." + n->name() + ".count"] = n->count;
    c.tensors["norm." + n->name() + ".sum"] = n->sum;
    c.tensors["norm." + n->name() + ".sumsq"] = n->sumsq;
    c.tensors["norm." + n->name() + ".accumulations"] = at::tensor({n->accumulations}, at::kLong);
  }
  c.attributes["family"] = model.family();
}

void require_model_family(const Checkpoint& c, const std::string& path, const Simulator& model) {
  auto family = c.attributes.find("family");
  if (family == c.attributes.end() || family->second != model.family())
    throw Error(cat(path, ": checkpoint of a '", family == c.attributes.end() ? "?" : family->second,
                    "' model, the deck builds a '", model.family(), "' (model.family)"));
}

void unpack_model(const Checkpoint& c, const std::string& path, Simulator& model, Normalizers& norms) {
  require_model_family(c, path, model);
  at::NoGradGuard no_grad;
  for (auto& p : model.module().named_parameters()) {
    const at::Tensor& t = checkpoint_tensor(c, path, "model." + p.key());
    if (t.is_floating_point() && !at::isfinite(t).all().item<bool>())
      throw Error(cat(path, ": parameter ", p.key(), " holds non-finite values (the run that wrote it diverged?)"));
    if (t.sizes() != p.value().sizes())
      throw Error(
          cat(path, ": parameter ", p.key(), " has shape ", t.sizes(), ", the deck's model ", p.value().sizes()));
    p.value().copy_(t);
  }
  for (Normalizer* n : {&norms.node, &norms.target}) {
    // The deck's model fixes the channels (a fresh normaliser has them); a file whose statistics
    // have other shapes would fail deep inside the first normalisation.
    const std::vector<int64_t> channels = n->sum.sizes().vec();
    const auto stat = [&](const char* part, bool scalar) -> const at::Tensor& {
      const at::Tensor& t = checkpoint_tensor(c, path, cat("norm.", n->name(), ".", part));
      if (scalar ? t.numel() != 1 : t.sizes().vec() != channels)
        throw Error(cat(path, ": normaliser tensor 'norm.", n->name(), ".", part, "' has shape ", t.sizes(),
                        ", the deck's model needs ", scalar ? "one value" : cat(at::IntArrayRef(channels)),
                        "; the checkpoint is damaged"));
      return t;
    };
    n->count = stat("count", true).clone();
    n->sum = stat("sum", false).clone();
    n->sumsq = stat("sumsq", false).clone();
    n->accumulations = stat("accumulations", true).item<int64_t>();
    // Statistics no training run can produce (a damaged or hand-edited file) would scale every
    // prediction by nonsense: refuse them. A trained model has seen rows, and its sums of
    // squares bound its sums (count * sumsq >= sum^2, up to rounding).
    const double count = n->count.item<double>();
    const at::Tensor sum = n->sum.to(at::kDouble), sumsq = n->sumsq.to(at::kDouble);
    const bool finite = at::isfinite(sum).all().item<bool>() && at::isfinite(sumsq).all().item<bool>();
    if (!(count >= 1) || !finite || (count * sumsq - sum * sum < -1e-6 * count * sumsq.abs()).any().item<bool>())
      throw Error(cat(path, ": normaliser '", n->name(), "' holds statistics no training produces (count ", count,
                      "); the checkpoint is damaged"));
  }
}

TrainedModel load_trained_model(const std::string& path) {
  Checkpoint c = load_checkpoint(path);
  auto deck = c.attributes.find("deck");
  if (deck == c.attributes.end()) throw Error(cat(path, ": checkpoint has no stored deck"));
  // Another family's checkpoint: say so, rather than that its stored deck names a wrong family.
  if (const auto family = c.attributes.find("family"); family != c.attributes.end()) {
    std::string names;
    bool known = false;
    for (const Family& f : mesh_sim_families()) {
      names += cat(names.empty() ? "" : ", ", f.name);
      known = known || f.name == family->second;
    }
    if (!known)
      throw Error(
          cat(path, ": a checkpoint of a '", family->second, "' model; this needs a mesh simulator (", names, ")"));
  }
  TrainedModel m;
  m.options = mesh_sim_options(stored_training_deck(c, path, mesh_sim_families()));
  m.model = make_simulator(m.options.model, kNodeFeatures, kOutputChannels);
  m.norms = Normalizers::fresh(m.options.model.bundle);
  unpack_model(c, path, *m.model, m.norms);
  m.model->module().eval();
  m.step = c.attributes.count("step") ? attribute_count(c.attributes, path, "step") : 0;
  m.data_dt = checkpoint_data_dt(c, path);
  m.data_edge_length = checkpoint_data_edge_length(c, path);
  m.trained_on = stored_trained_on(c, path);
  return m;
}

namespace {

// A positive number stored as checkpoint attribute `name`; 0 when the checkpoint has none.
double positive_attribute(const Checkpoint& c, const std::string& path, const std::string& name) {
  const auto it = c.attributes.find(name);
  if (it == c.attributes.end()) return 0;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0' || !(v > 0))
    throw Error(cat(path, ": checkpoint attribute ", name, " = '", it->second, "' is not a positive number"));
  return v;
}

}  // namespace

double checkpoint_data_dt(const Checkpoint& c, const std::string& path) {
  return positive_attribute(c, path, "data_dt");
}

double checkpoint_data_edge_length(const Checkpoint& c, const std::string& path) {
  return positive_attribute(c, path, kDataEdgeLengthAttribute);
}

std::string dt_mismatch_warning(double trained_dt, double dt, const std::string& what) {
  // The importer's bound: a dataset imported with import.dt = 0.07 and one whose float32 stamps
  // give 0.0700000003 have one dt.
  if (!(trained_dt > 0) || std::abs(dt - trained_dt) <= io::kSameDtRelative * trained_dt) return "";
  return cat("the model was trained on steps of dt = ", trained_dt, ", but ", what, " has dt = ", dt,
             ": each predicted step still advances the training data's dt");
}

std::string mesh_scale_warning(double trained_edge_length, double edge_length, const std::string& what) {
  if (!(trained_edge_length > 0) || !(edge_length > 0)) return "";
  const double ratio = edge_length / trained_edge_length, factor = ratio >= 1 ? ratio : 1 / ratio;
  if (factor <= 3) return "";
  return cat("the mean edge length in ", what, " is ", core::sci(edge_length), ", ",
             factor >= 10 ? cat(std::llround(factor)) : core::sig3(factor), " times ", ratio > 1 ? "longer" : "shorter",
             " than the training meshes' (", core::sci(trained_edge_length),
             "): is the mesh in other units? The model reads edge vectors and positions in its training data's "
             "units (and a mesh far finer or coarser than those is outside what it learnt)");
}

}  // namespace tessera::train
