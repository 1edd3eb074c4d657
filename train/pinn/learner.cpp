#include "train/pinn/learner.hpp"

#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <torch/optim/lbfgs.h>

#include <algorithm>
#include <deque>
#include <numbers>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/malloc_policy.hpp"
#include "physics/burgers_reference.hpp"
#include "physics/fused_tanh_jet.hpp"
#include "physics/hard_initial_condition.hpp"
#include "physics/lagrangian_grid.hpp"
#include "train/checkpoint.hpp"
#include "train/device.hpp"
#include "train/optimizer_state.hpp"
#include "train/pinn/network.hpp"

namespace tessera::train::pinn {
namespace {

// What a case's network solves and how it is made, by the deck key that sets each: a checkpoint
// resumes only where all agree. (A sweep run again into the same folder with another problem
// resumed the old cases and reported them as the new problem's; another precision crashed in
// L-BFGS.) The grid, loss weights and optimiser settings may change on a resume.
RunSetup case_setup(const PinnOptions& o) {
  return {{"pinn.formulation", formulation_name(o.formulation)},
          {"pinn.problem", o.problem.name()},
          {"pinn.c", cat(o.problem.c)},
          {"pinn.nu", cat(o.problem.nu)},
          {"pinn.offset", cat(o.problem.C)},
          {"pinn.t_end", cat(o.problem.T)},
          {"pinn.network.width", cat(o.network.width)},
          {"pinn.network.hidden_layers", cat(o.network.hidden_layers)},
          {"pinn.network.branches", o.separate_branches ? "separate" : "shared"},
          {"pinn.precision", o.fp64 ? "fp64" : "fp32"}};
}

constexpr double kTwoPi = 2 * std::numbers::pi;

at::Tensor l2(const at::Tensor& r) { return r.pow(2).sum().sqrt(); }

// Adam's state per parameter: moments, the amsgrad maximum, the step count.
void save_adam(Checkpoint& c, torch::optim::Optimizer& opt, const torch::nn::Module& net) {
  for (const auto& p : net.named_parameters()) {
    auto it = opt.state().find(p.value().unsafeGetTensorImpl());
    if (it == opt.state().end()) continue;
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const std::string k = "adam." + p.key();
    c.tensors[k + ".exp_avg"] = s.exp_avg().cpu();
    c.tensors[k + ".exp_avg_sq"] = s.exp_avg_sq().cpu();
    if (s.max_exp_avg_sq().defined()) c.tensors[k + ".max_exp_avg_sq"] = s.max_exp_avg_sq().cpu();
    c.tensors[k + ".step"] = at::tensor({s.step()}, at::kLong);
  }
}

void load_adam(const Checkpoint& c, torch::optim::Optimizer& opt, torch::nn::Module& net) {
  for (auto& p : net.named_parameters()) {
    const std::string k = "adam." + p.key();
    if (!c.tensors.count(k + ".exp_avg")) continue;
    const at::Device dev = p.value().device();
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->exp_avg(c.tensors.at(k + ".exp_avg").clone().to(dev));
    s->exp_avg_sq(c.tensors.at(k + ".exp_avg_sq").clone().to(dev));
    if (c.tensors.count(k + ".max_exp_avg_sq")) s->max_exp_avg_sq(c.tensors.at(k + ".max_exp_avg_sq").clone().to(dev));
    s->step(c.tensors.at(k + ".step").item<int64_t>());
    opt.state()[p.value().unsafeGetTensorImpl()] = std::move(s);
  }
}

// L-BFGS keeps one state (directions, steps, curvature history, counters) on its first parameter.
void save_lbfgs(Checkpoint& c, torch::optim::Optimizer& opt) {
  const auto it = opt.state().find(opt.param_groups().at(0).params().at(0).unsafeGetTensorImpl());
  if (it == opt.state().end()) return;
  const auto& s = static_cast<const torch::optim::LBFGSParamState&>(*it->second);
  c.tensors["lbfgs.counters"] = at::tensor({s.func_evals(), s.n_iter()}, at::kLong);
  c.tensors["lbfgs.scalars"] = at::tensor({s.t(), s.prev_loss()}, at::kDouble);
  auto put = [&](const std::string& k, const at::Tensor& t) {
    if (t.defined()) c.tensors["lbfgs." + k] = t.cpu();
  };
  put("d", s.d());
  put("H_diag", s.H_diag());
  put("prev_flat_grad", s.prev_flat_grad());
  auto put_all = [&](const std::string& k, const std::vector<at::Tensor>& v) {
    if (!v.empty()) put(k, at::stack(v));
  };
  put_all("old_dirs", {s.old_dirs().begin(), s.old_dirs().end()});
  put_all("old_stps", {s.old_stps().begin(), s.old_stps().end()});
  put_all("ro", {s.ro().begin(), s.ro().end()});
  // s.al() is per-iteration workspace, overwritten before it is read: not state.
}

void load_lbfgs(const Checkpoint& c, torch::optim::Optimizer& opt) {
  if (!c.tensors.count("lbfgs.counters")) return;
  const at::Tensor first = opt.param_groups().at(0).params().at(0);
  const at::Device dev = first.device();
  auto s = std::make_unique<torch::optim::LBFGSParamState>();
  const at::Tensor counters = c.tensors.at("lbfgs.counters"), scalars = c.tensors.at("lbfgs.scalars");
  s->func_evals(counters[0].item<int64_t>());
  s->n_iter(counters[1].item<int64_t>());
  s->t(scalars[0].item<double>());
  s->prev_loss(scalars[1].item<double>());
  auto get = [&](const std::string& k) {
    auto it = c.tensors.find("lbfgs." + k);
    return it == c.tensors.end() ? at::Tensor() : it->second.clone().to(dev);
  };
  s->d(get("d"));
  s->H_diag(get("H_diag"));
  s->prev_flat_grad(get("prev_flat_grad"));
  auto get_all = [&](const std::string& k) {
    const at::Tensor t = get(k);
    return t.defined() ? t.unbind(0) : std::vector<at::Tensor>{};
  };
  auto deque = [&](const std::string& k) {
    const auto v = get_all(k);
    return std::deque<at::Tensor>(v.begin(), v.end());
  };
  s->old_dirs(deque("old_dirs"));
  s->old_stps(deque("old_stps"));
  s->ro(deque("ro"));
  opt.state()[first.unsafeGetTensorImpl()] = std::move(s);
}

}  // namespace

at::Tensor reference_solution(const physics::Problem1D& p, const at::Tensor& t, const at::Tensor& x) {
  const at::Tensor td = t.to(at::kCPU, at::kDouble), xd = x.to(at::kCPU, at::kDouble);
  if (p.kind == physics::Problem1D::Burgers) return physics::burgers_cole_hopf(p.nu, p.C, td, xd);
  return physics::exact_solution(p, td.reshape({-1, 1}), xd.reshape({1, -1}));
}

PinnLearner::~PinnLearner() = default;

std::vector<physics::JetOrder> PinnLearner::jet_orders() const {
  using physics::JetOrder;
  const bool viscous = options_.problem.viscosity() != 0;
  if (options_.formulation == Formulation::Eulerian) return {viscous ? JetOrder::Second : JetOrder::First};
  // r_x reads ∂t x_L only; r_u reads ∂t u and, with viscosity, ∂²u/∂x0².
  return {JetOrder::Time, viscous ? JetOrder::Second : JetOrder::Time};
}

double PinnLearner::displacement_unit() const {
  return options_.scale_displacement ? displacement_scale(options_.problem) : 1.0;
}

PinnLearner::PinnLearner(const PinnOptions& o, std::shared_ptr<spdlog::logger> log)
    : options_(o), log_(std::move(log)) {
  core::retain_freed_memory();  // the full-batch jets are allocated and freed every step
  o.problem.validate();
  if (o.nx < 2 || o.nt < 2) throw Error(cat("PINN grid ", o.nx, " x ", o.nt, " is empty"), "pinn.grid.nx");
  const c10::Device device = select_device_for(o.device, "train.device", Comm::self());
  const at::TensorOptions f = at::TensorOptions().dtype(o.fp64 ? at::kDouble : at::kFloat).device(device);
  at::manual_seed(o.seed);  // parameter initialisation
  physics::TanhMlpOptions net = o.network;
  net.outputs = o.formulation == Formulation::Eulerian ? 1 : 2;
  options_.network = net;
  net_ = PinnNetwork(net, o.separate_branches);
  net_->to(device, f.dtype().toScalarType());
  t_ = at::linspace(0, o.problem.T, o.nt, f);
  x_ = at::arange(o.nx, f) * (kTwoPi / double(o.nx));
  t_all_ = t_.repeat_interleave(o.nx);
  x_all_ = x_.repeat({o.nt});
  reference_ = reference_solution(o.problem, t_, x_);
  adam_ =
      std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(o.adam_lr).amsgrad(o.amsgrad));
  int64_t params = 0;
  for (const auto& p : net_->parameters()) params += p.numel();
  core::log_info(
      log_.get(),
      cat(o.name.empty() ? "" : o.name + ": ", formulation_name(o.formulation), " on ", o.problem.name(), " (c ",
          o.problem.c, ", nu ", o.problem.nu, ", C ", o.problem.C, ", T ", o.problem.T, "), ", o.nx, " x ", o.nt,
          " points, ", params, " parameters, ", o.fp64 ? "fp64" : "fp32", ", ", o.taylor ? "Taylor-mode" : "autograd",
          " derivatives; ",
          o.steps > 0 && o.adam_steps >= o.steps ? cat("Adam for all ", o.steps, " steps (train.steps; no L-BFGS)")
                                                 : cat("Adam ", o.adam_steps, " steps, then L-BFGS")));
  if (!o.resume.empty()) with_key("train.resume", [&] { load(o.resume); });
}

torch::optim::Optimizer& PinnLearner::lbfgs() {
  if (!lbfgs_)
    lbfgs_ = std::make_unique<torch::optim::LBFGS>(net_->parameters(), torch::optim::LBFGSOptions(options_.lbfgs_lr)
                                                                           .max_iter(options_.lbfgs_iterations)
                                                                           .history_size(options_.lbfgs_history)
                                                                           .line_search_fn("strong_wolfe"));
  return *lbfgs_;
}

physics::Jet1D PinnLearner::start_of_output(int64_t k, const at::Tensor& x) const {
  const bool displacement = options_.formulation == Formulation::Lagrangian && k == 0;
  return displacement ? physics::Jet1D{} : physics::initial_condition_jet(options_.problem, x);
}

at::Tensor PinnLearner::outputs(const at::Tensor& t, const at::Tensor& x) {
  const at::Tensor n = net_->forward(t, x);
  if (!options_.hard_initial_condition) return n;
  std::vector<at::Tensor> columns;
  for (int64_t k = 0; k < n.size(1); ++k)
    columns.push_back(physics::starting_from(start_of_output(k, x), t, physics::Jet1D{n.select(1, k), {}, {}, {}}).u);
  return at::stack(columns, 1);
}

at::Tensor PinnLearner::loss() {
  const PinnOptions& o = options_;
  const physics::Problem1D& p = o.problem;
  // Constant-speed transport in Taylor mode: the Eulerian residual u_t + c u_x is the derivative
  // along the characteristic, one tangent channel instead of the two of (u_t, u_x) (fused_tanh_jet.hpp).
  const bool along_characteristic =
      o.formulation == Formulation::Eulerian && o.taylor && p.kind != physics::Problem1D::Burgers && p.viscosity() == 0;
  // A hard initial condition holds exactly: no initial-condition terms (their norms would be 0, and
  // the norm's gradient at 0 is not defined).
  const bool hard = o.hard_initial_condition;
  std::vector<physics::Jet1D> jets;  // one per output, [N] members
  if (!o.taylor) {
    // The reference path: one autograd jet per output, of the outputs as evaluated (hard form included).
    for (int64_t c = 0; c < o.network.outputs; ++c)
      jets.push_back(physics::autograd_jet(
          [&](const at::Tensor& t, const at::Tensor& x) { return outputs(t, x).select(1, c); }, t_all_, x_all_, true));
  } else if (!along_characteristic) {
    jets = net_->jets(t_all_, x_all_, jet_orders());
    if (hard)
      for (int64_t k = 0; k < o.network.outputs; ++k)
        jets[k] = physics::starting_from(start_of_output(k, x_all_), t_all_, jets[k]);
  }
  const at::Tensor at0 = hard ? at::Tensor() : outputs(at::zeros_like(x_), x_);  // [nx, outputs]
  if (o.formulation == Formulation::Eulerian) {
    at::Tensor r;
    if (along_characteristic) {
      physics::DirectionalJet along = net_->directional(t_all_, x_all_, p.c);
      if (hard) along = physics::starting_from(start_of_output(0, x_all_), t_all_, along, p.c);
      r = along.du;
    } else {
      r = physics::eulerian_residual(p, jets[0]);
    }
    const at::Tensor residual = o.weight_u * l2(r);
    if (hard) return residual;
    const at::Tensor ic = physics::eulerian_initial_residual(p, x_, at0.select(1, 0));
    return residual + o.weight_ic * l2(ic);
  }
  // The first output is the displacement: x_L = x0 + d, so x_L(x0, 0) = x0 is representable by a
  // network periodic in x0.
  const physics::Jet1D &d = jets[0], &u = jets[1];
  const double s = displacement_unit();
  const physics::Jet1D x_l{x_all_ + s * d.u, s * d.u_t, {}, {}};  // the residual reads no x-derivative of x_L
  const physics::LagrangianResidual r = physics::lagrangian_residual(p, x_l, u);
  const at::Tensor residuals = o.weight_x * l2(r.r_x) + o.weight_u * l2(r.r_u);
  if (hard) return residuals;
  const physics::LagrangianResidual ic =
      physics::lagrangian_initial_residual(p, x_, x_ + s * at0.select(1, 0), at0.select(1, 1));
  return residuals + o.weight_ic * (l2(ic.r_x) + l2(ic.r_u));
}

double PinnLearner::step() {
  double value = 0;
  if (!in_lbfgs()) {
    adam_->zero_grad();
    const at::Tensor l = loss();
    l.backward();
    adam_->step();
    value = l.item<double>();
  } else {
    auto closure = [this] {
      lbfgs_->zero_grad();
      at::Tensor l = loss();
      l.backward();
      return l;
    };
    lbfgs();
    value = lbfgs_->step(closure).item<double>();
  }
  ++step_;
  last_loss_ = value;
  return value;
}

Evaluation PinnLearner::evaluate() { return evaluate_on(options_.nx, options_.nt, options_.problem.T); }

Evaluation PinnLearner::evaluate_on(int64_t nx, int64_t nt, double t_end,
                                    const std::function<void(int64_t)>& times_done) {
  if (nx < 2 || nt < 2) throw Error(cat("PINN evaluation grid ", nx, " x ", nt, " is empty (at least 2 x 2)"));
  at::NoGradGuard no_grad;
  const bool training_grid = nx == options_.nx && nt == options_.nt && t_end == options_.problem.T;
  const at::Tensor t = training_grid ? t_ : at::linspace(0, t_end, nt, t_.options());
  const at::Tensor x = training_grid ? x_ : at::arange(nx, x_.options()) * (kTwoPi / double(nx));
  Evaluation e;
  e.t = t.to(at::kCPU, at::kDouble);
  e.x = x.to(at::kCPU, at::kDouble);
  e.t_end = t_end;
  // A block of whole times at a time: a fine grid's activations are not all held at once (the
  // training grid, 25,600 points by default, is one block, as the loss evaluates it).
  constexpr int64_t kPointsPerBlock = int64_t{1} << 16;
  const int64_t times = std::max<int64_t>(1, kPointsPerBlock / nx);
  std::vector<at::Tensor> blocks, references;
  for (int64_t n0 = 0; n0 < nt; n0 += times) {
    const at::Tensor tb = t.slice(0, n0, std::min(nt, n0 + times));
    blocks.push_back(outputs(tb.repeat_interleave(nx), x.repeat({tb.size(0)})).to(at::kCPU, at::kDouble));
    if (!training_grid) references.push_back(reference_solution(options_.problem, tb, x));
    if (times_done) times_done(tb.size(0));
  }
  const at::Tensor out = at::cat(blocks).reshape({nt, nx, -1});
  if (options_.formulation == Formulation::Eulerian) {
    e.predicted = out.select(2, 0).contiguous();
  } else {
    const at::Tensor x_l = e.x.reshape({1, -1}) + displacement_unit() * out.select(2, 0);
    e.predicted = physics::lagrangian_to_grid(x_l, out.select(2, 1), nx);
  }
  e.reference = training_grid ? reference_ : at::cat(references);
  const at::Tensor err = e.predicted - e.reference;
  e.rel_l2 = (l2(err) / l2(e.reference)).item<double>();
  e.rel_spectral = (at::linalg_svdvals(err).max() / at::linalg_svdvals(e.reference).max()).item<double>();
  return e;
}

std::vector<Metric> PinnLearner::validate() {
  const Evaluation e = evaluate();
  core::log_info(log_.get(), cat(options_.name.empty() ? "" : options_.name + ": ", "step ", step_, ": loss ",
                                 core::sci(last_loss_), ", relative L2 error ", core::sci(e.rel_l2), " (2-norm ",
                                 core::sci(e.rel_spectral), ")"));
  return {{"loss", last_loss_}, {"rel_l2", e.rel_l2}, {"rel_spectral", e.rel_spectral}};
}

void PinnLearner::save(const std::string& path) const {
  Checkpoint c;
  for (const auto& p : net_->named_parameters()) c.tensors["model." + p.key()] = p.value().detach().cpu();
  save_adam(c, *adam_, *net_);
  if (lbfgs_) save_lbfgs(c, *lbfgs_);
  c.tensors["last_loss"] = at::tensor({last_loss_}, at::kDouble);
  c.attributes["family"] = "pinn";
  c.attributes["step"] = std::to_string(step_);
  c.attributes["case"] = options_.name;
  // The case's wall time so far, over every run (the study's `seconds` column goes on from it).
  c.attributes["seconds"] =
      cat(seconds_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  // The Lagrangian network's displacement output only; an Eulerian one has none.
  if (options_.formulation == Formulation::Lagrangian) c.attributes["displacement_unit"] = cat(displacement_unit());
  c.attributes["initial_condition"] = options_.hard_initial_condition ? "hard" : "soft";
  put_setup(c, case_setup(options_));
  put_deck(c, options_.deck_yaml, options_.deck_dir);
  save_checkpoint(path, c);
}

void PinnLearner::load(const std::string& path) {
  Checkpoint c = load_checkpoint(path);
  if (c.attributes["family"] != "pinn")
    throw Error(cat(path, ": a checkpoint of family '", c.attributes["family"], "', not pinn"), "train.resume");
  if (c.attributes["case"] != options_.name)
    throw Error(cat(path, ": holds case '", c.attributes["case"], "', not '", options_.name, "'"), "train.resume");
  // Checkpoints before 2026-12-07 spell the problem "convection-diffusion" (Problem1D::name then),
  // not as pinn.problem does.
  if (auto it = c.attributes.find("setup.pinn.problem");
      it != c.attributes.end() && it->second == "convection-diffusion")
    it->second = "convection_diffusion";
  // The settings first: a unit or form that differs follows from one of them (pinn.c sets the
  // displacement's unit), which the user changed and the error should name.
  if (const auto d = setup_difference(c, case_setup(options_)))
    throw Error(cat(path, ": this case was trained with ", d->key, " = ", d->stored, ", the deck gives ", d->now,
                    "; a checkpoint resumes only the case it holds (a fresh start: another output.dir, or ",
                    "output.overwrite: true)"),
                d->key);
  const std::string unit = cat(displacement_unit());
  if (options_.formulation == Formulation::Lagrangian && c.attributes.count("displacement_unit") &&
      c.attributes["displacement_unit"] != unit)
    throw Error(cat(path, ": its displacement output is in units of ", c.attributes["displacement_unit"],
                    ", this deck's in units of ", unit, " (pinn.lpinn.scale_displacement)"),
                "train.resume");
  const std::string form = options_.hard_initial_condition ? "hard" : "soft";
  if (c.attributes.count("initial_condition") && c.attributes["initial_condition"] != form)
    throw Error(cat(path, ": trained with a ", c.attributes["initial_condition"], " initial condition, this deck's is ",
                    form, " (pinn.initial_condition)"),
                "train.resume");
  NamedParameters params = net_->named_parameters();
  unpack_parameters(c, path, params, "train.resume");
  load_adam(c, *adam_, *net_);
  if (c.tensors.count("lbfgs.counters")) load_lbfgs(c, lbfgs());
  last_loss_ = c.tensors.at("last_loss").item<double>();
  if (c.attributes.count("seconds")) seconds_before_ = attribute_real(c.attributes, path, "seconds");
  step_ = attribute_count(c.attributes, path, "step");
  core::log_info(log_.get(),
                 cat("resumed ", options_.name.empty() ? "" : options_.name + " ", "from ", path, " at step ", step_));
}

}  // namespace tessera::train::pinn
