#include "train/pinn/options.hpp"

#include <cmath>
#include <sstream>
#include <utility>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "train/device.hpp"
#include "train/family.hpp"

namespace tessera::train::pinn {

std::string formulation_name(Formulation f) { return f == Formulation::Eulerian ? "pinn" : "lpinn"; }

double displacement_scale(const physics::Problem1D& p) {
  const double speed = p.kind == physics::Problem1D::Burgers ? 1 + std::abs(p.C) : std::max(1.0, std::abs(p.c));
  return speed * p.T;
}

void add_pinn_keys(io::Schema& s) {
  using io::KeyType;
  s.section("pinn", "Lagrangian PINNs (docs/pinn.md): formulation, 1D periodic problem, network, optimiser, sweep");
  s.add("pinn.formulation", KeyType::Choice, "lpinn",
        "pinn: Eulerian PINN u(x, t); lpinn: Lagrangian PINN (x_L, u)(x0, t) along characteristics; both: one case "
        "of each")
      .choices = {"pinn", "lpinn", "both"};
  s.add("pinn.problem", KeyType::Choice, "advection",
        "advection u_t + c u_x = 0; convection_diffusion u_t + c u_x = nu u_xx; burgers u_t + u u_x = nu u_xx; "
        "x in [0, 2pi) periodic, u0 = sin x + offset")
      .choices = {"advection", "convection_diffusion", "burgers"};
  s.add("pinn.c", KeyType::Float, "1", "advection speed c (advection, convection_diffusion)");
  s.add("pinn.nu", KeyType::Float, "0", "viscosity nu (0 for advection; > 0 for burgers)").min = 0;
  s.add("pinn.offset", KeyType::Float, "0", "C of the initial condition u0 = sin x + C");
  auto& te = s.add("pinn.t_end", KeyType::Float, "1", "final time T");
  te.min = 0;
  te.min_exclusive = true;
  s.add("pinn.grid.nx", KeyType::Int, "256", "collocation and evaluation points in x (x_j = 2 pi j / nx)").min = 2;
  s.add("pinn.grid.nt", KeyType::Int, "100", "collocation and evaluation times (t_n = T n / (nt - 1))").min = 2;
  s.add("pinn.network.width", KeyType::Int, "50", "width of the tanh MLP on (cos x, sin x, t)").min = 1;
  s.add("pinn.network.hidden_layers", KeyType::Int, "5", "tanh layers of the MLP").min = 1;
  s.add("pinn.network.branches", KeyType::Choice, "separate",
        "lpinn: separate, one MLP per output (x_L and u; the LPINN paper's figure); shared, one MLP with both outputs "
        "(the authors' released code)")
      .choices = {"separate", "shared"};
  s.add("pinn.derivatives", KeyType::Choice, "taylor",
        "taylor: u, u_t, u_x, u_xx in one forward pass (Taylor-mode jet); autograd: three reverse passes")
      .choices = {"taylor", "autograd"};
  s.add("pinn.precision", KeyType::Choice, "fp32", "fp32 or fp64 parameters and points").choices = {"fp32", "fp64"};
  auto& w = s.add("pinn.loss.weights", KeyType::FloatList, "[10, 1, 1000]",
                  "weights of ||r_x|| (lpinn), ||r_u|| (or the Eulerian residual) and the initial-condition norms "
                  "(L2 norms over the grid)");
  w.list_size = 3;
  w.min = 0;
  s.add("pinn.lpinn.scale_displacement", KeyType::Bool, "true",
        "lpinn: the network outputs the displacement x_L - x0 divided by U T (U = max(1, |c|), or 1 + |offset| for "
        "burgers), so the output stays O(1) at any speed; false: the displacement itself");
  s.add("pinn.initial_condition", KeyType::Choice, "soft",
        "soft: the network's outputs, the initial conditions in the loss (weight pinn.loss.weights[2], the paper's "
        "form); hard: u = u0(x) + t N and (lpinn) x_L = x0 + t M, so they hold exactly (docs/pinn.md)")
      .choices = {"soft", "hard"};
  s.add("pinn.adam.steps", KeyType::Int, "1000", "Adam steps; L-BFGS steps follow until train.steps").min = 0;
  auto& lr = s.add("pinn.adam.lr", KeyType::Float, "0.01", "Adam learning rate");
  lr.min = 0;
  lr.min_exclusive = true;
  s.add("pinn.adam.amsgrad", KeyType::Bool, "true", "the AMSGrad variant of Adam");
  s.add("pinn.lbfgs.iterations", KeyType::Int, "20", "L-BFGS iterations per training step (strong Wolfe)").min = 1;
  s.add("pinn.lbfgs.history", KeyType::Int, "50", "L-BFGS history size").min = 1;
  auto& blr = s.add("pinn.lbfgs.lr", KeyType::Float, "1", "L-BFGS initial step length");
  blr.min = 0;
  blr.min_exclusive = true;
  s.add("pinn.sweep.parameter", KeyType::Choice, "none",
        "the parameter a study varies (one case per value and formulation; cases dealt round-robin to MPI ranks)")
      .choices = {"none", "c", "offset", "nu"};
  s.add("pinn.sweep.values", KeyType::FloatList, "[]", "the values of pinn.sweep.parameter");
  add_threads_key(s, "pinn.threads", "1", "torch intra-op threads per rank; 0: torch's default");
  // What a problem or formulation does not read: set anyway, a warning (run_app). pinn.nu and
  // pinn.offset are not among them: read_pinn_study refuses them where the problem has none.
  s.read_only_when("pinn.c", {{"pinn.problem", {"advection", "convection_diffusion"}}});  // burgers: speed u
  for (const char* k : {"pinn.network.branches", "pinn.lpinn"})  // the Eulerian PINN has one output
    s.read_only_when(k, {{"pinn.formulation", {"lpinn", "both"}}});
  s.read_only_when("pinn.loss.weights[0]", {{"pinn.formulation", {"lpinn", "both"}}},
                   "the Eulerian PINN has no characteristic residual r_x");
  s.read_only_when("pinn.loss.weights[2]", {{"pinn.initial_condition", {"soft"}}},
                   "hard initial conditions hold exactly: the loss has no initial-condition term");
  for (const char* k : {"pinn.adam.lr", "pinn.adam.amsgrad"})
    s.read_only_when(k, {io::not_one_of("pinn.adam.steps", {"0"})}, "L-BFGS from the first step");
  s.read_only_when("pinn.lbfgs", {io::below("pinn.adam.steps", "train.steps")}, "training ends within the Adam steps");
}

namespace {

physics::Problem1D make_problem(const std::string& kind, double c, double nu, double C, double T) {
  physics::Problem1D p;
  p.kind = kind == "advection"              ? physics::Problem1D::Advection
           : kind == "convection_diffusion" ? physics::Problem1D::ConvectionDiffusion
                                            : physics::Problem1D::Burgers;
  p.c = c;
  p.nu = nu;
  p.C = C;
  p.T = T;
  return p;
}

// The problem's rules on nu and offset: {key, what is wrong}, or an empty message.
std::pair<std::string, std::string> problem_error(const physics::Problem1D& p) {
  if (p.kind == physics::Problem1D::Advection && p.nu != 0)
    return {"pinn.nu", cat("advection has no viscosity: nu must be 0 (got ", p.nu, "; use convection_diffusion)")};
  if (p.kind == physics::Problem1D::Burgers && !(p.nu > 0))
    return {"pinn.nu", cat("burgers needs nu > 0 (got ", p.nu, ")")};
  if (p.kind == physics::Problem1D::Burgers && p.c != 0)  // a sweep over c (the key itself warns: unread)
    return {"pinn.c", cat("burgers has no speed c: it is carried at speed u (got c = ", p.c, ")")};
  if (p.kind != physics::Problem1D::Burgers && p.C != 0)
    return {"pinn.offset", cat("the offset C of u0 is a burgers parameter (got ", p.C, " for ", p.name(), ")")};
  return {};
}

// A value with every digit it has, where two values that value_name shows alike are told apart.
std::string exact(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

std::string value_name(double v) {
  std::string s = cat(v);
  for (char& ch : s)
    if (ch == '.') ch = 'p';
  return s;
}

}  // namespace

std::vector<PinnOptions> study_cases(const PinnStudy& study) {
  std::vector<PinnOptions> cases;
  const std::vector<double> values = study.parameter == "none" ? std::vector<double>{0.0} : study.values;
  for (Formulation f : study.formulations)
    for (double v : values) {
      PinnOptions o = study.base;
      o.formulation = f;
      o.network.outputs = f == Formulation::Eulerian ? 1 : 2;
      std::string name = formulation_name(f);
      if (study.parameter == "c") o.problem.c = v;
      if (study.parameter == "offset") o.problem.C = v;
      if (study.parameter == "nu") o.problem.nu = v;
      if (study.parameter != "none") name += "_" + study.parameter + value_name(v);
      o.name = name;
      cases.push_back(o);
    }
  return cases;
}

PinnStudy read_pinn_study(const io::Deck& d, bool stored) {
  PinnStudy study;
  study.fresh_start = d.get_bool("output.overwrite");
  PinnOptions& o = study.base;
  const std::string f = d.get_string("pinn.formulation");
  if (f == "pinn" || f == "both") study.formulations.push_back(Formulation::Eulerian);
  if (f == "lpinn" || f == "both") study.formulations.push_back(Formulation::Lagrangian);
  o.formulation = study.formulations.front();
  const std::string problem = d.get_string("pinn.problem");
  // Burgers transports at speed u: its c is 0, as physics::Problem1D::burgers makes it.
  o.problem = make_problem(problem, problem == "burgers" ? 0.0 : d.get_float("pinn.c"), d.get_float("pinn.nu"),
                           d.get_float("pinn.offset"), d.get_float("pinn.t_end"));
  // The swept parameter's key is checked per case below: Burgers' base nu is 0 in a sweep over nu
  // (its key must not be set), which this check refused, so no nu sweep of Burgers could run.
  const std::string swept = d.get_string("pinn.sweep.parameter");
  if (const auto [key, message] = problem_error(o.problem); !message.empty() && key != "pinn." + swept)
    d.fail(key, message);
  o.nx = d.get_int("pinn.grid.nx");
  o.nt = d.get_int("pinn.grid.nt");
  o.network.width = d.get_int("pinn.network.width");
  o.network.hidden_layers = d.get_int("pinn.network.hidden_layers");
  o.network.outputs = o.formulation == Formulation::Eulerian ? 1 : 2;
  const bool lagrangian = f != "pinn";  // the keys of its second output, read for lpinn and both
  if (lagrangian) o.separate_branches = d.get_string("pinn.network.branches") == "separate";
  o.taylor = d.get_string("pinn.derivatives") == "taylor";
  o.fp64 = d.get_string("pinn.precision") == "fp64";
  const auto w = d.get_floats("pinn.loss.weights");
  o.weight_x = w[0];
  o.weight_u = w[1];
  o.weight_ic = w[2];
  if (lagrangian) o.scale_displacement = d.get_bool("pinn.lpinn.scale_displacement");
  o.adam_steps = d.get_int("pinn.adam.steps");
  o.steps = d.get_int("train.steps");
  o.adam_lr = d.get_float("pinn.adam.lr");
  o.amsgrad = d.get_bool("pinn.adam.amsgrad");
  o.hard_initial_condition = d.get_string("pinn.initial_condition") == "hard";
  o.lbfgs_iterations = d.get_int("pinn.lbfgs.iterations");
  o.lbfgs_history = d.get_int("pinn.lbfgs.history");
  o.lbfgs_lr = d.get_float("pinn.lbfgs.lr");
  o.seed = d.get_int("train.seed");
  o.device = read_device(d, "train.device");
  if (d.has("train.resume")) o.resume = d.resolve_path(d.get_string("train.resume"));
  o.deck_yaml = d.resolved_yaml();
  o.deck_dir = d.base_dir();
  study.parameter = d.get_string("pinn.sweep.parameter");
  study.values = d.get_floats("pinn.sweep.values");
  study.threads = d.get_int("pinn.threads");
  if (study.parameter == "none" && !study.values.empty())
    d.fail("pinn.sweep.values", "given without pinn.sweep.parameter (c, offset or nu)");
  if (study.parameter != "none" && study.values.empty())
    d.fail("pinn.sweep.values", cat("needs at least one value of ", study.parameter));
  // The swept parameter's own key would be silently replaced by each case's value.
  if (study.parameter != "none" && !stored && d.given("pinn." + study.parameter))
    d.fail("pinn." + study.parameter,
           cat("is set, but pinn.sweep.parameter: ", study.parameter,
               " takes its values from pinn.sweep.values; set one or the other (--set cannot remove a key that a "
               "deck file sets: remove it from a copy of the deck)"));
  const std::vector<PinnOptions> cases = study_cases(study);
  for (const PinnOptions& c : cases)
    if (const auto [key, message] = problem_error(c.problem); !message.empty()) d.fail("pinn.sweep.values", message);
  // Each case trains in a folder of its case name: two cases of one name (a repeated value, or
  // values that differ beyond the name's digits) would share it, the second resuming the first.
  for (size_t i = 0; i < study.values.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (cases[i].name == cases[j].name)
        d.fail("pinn.sweep.values", study.values[i] == study.values[j]
                                        ? cat("holds ", study.values[i], " twice; each value is one case")
                                        : cat("values ", exact(study.values[j]), " and ", exact(study.values[i]),
                                              " give the same case name '", cases[i].name,
                                              "' (its folder): give values that differ in their first 10 digits"));
  if (study.parameter == "nu")
    for (double v : study.values)
      if (v < 0) d.fail("pinn.sweep.values", cat("a viscosity must be >= 0, got ", v));
  if (!o.resume.empty() && study_cases(study).size() > 1)
    d.fail("train.resume",
           "a sweep resumes each case from the checkpoint in its own output folder; run the same deck again instead");
  return study;
}

}  // namespace tessera::train::pinn
