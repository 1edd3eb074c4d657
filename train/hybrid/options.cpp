#include "train/hybrid/options.hpp"

#include "core/error.hpp"
#include "io/deck.hpp"
#include "solvers/petsc_session.hpp"
#include "train/family.hpp"

namespace tessera::train::hybrid {

void check_schedule(const Schedule& s) {
  if (s.surrogate_steps < 0) throw Error(cat("must be >= 0, got ", s.surrogate_steps), "hybrid.surrogate_steps");
  if (s.solver_steps < 0) throw Error(cat("must be >= 0, got ", s.solver_steps), "hybrid.solver_steps");
  if (s.trigger == Trigger::Divergence) {
    if (s.solver_steps == 0)
      throw Error("must be > 0 with hybrid.trigger: divergence (the solver takes these steps when triggered)",
                  "hybrid.solver_steps");
    if (!(s.threshold > 0))
      throw Error(cat("must be > 0 with hybrid.trigger: divergence, got ", s.threshold), "hybrid.threshold");
  }
}

void add_hybrid_keys(io::Schema& s) {
  using io::KeyType;
  // rollout.checkpoint, .device, .threads, .steps, output.dir (out/hybrid), output.name (hybrid)
  add_evaluation_keys(s, {}, "hybrid");
  s.add("rollout.trajectory", KeyType::Int, "0", "trajectory index in the split").min = 0;
  s.section("data", "the dataset trajectory: initial state, boundary values, ground truth and the solver's mesh");
  io::Schema::input_path(
      s.add("data.dir", KeyType::String, "", "dataset directory; default: the training deck's data.dir"));
  s.add("data.split", KeyType::String, "test", "split to read the trajectory from");
  s.add("output.vtu", KeyType::Bool, "false", "also write one .vtu per step and a .pvd collection");
  s.section(
      "hybrid",
      "the schedule: K surrogate steps, then M solver steps from the surrogate's state, repeated (docs/hybrid.md)");
  s.add("hybrid.surrogate_steps", KeyType::Int, "9",
        "K: surrogate steps per cycle (trigger divergence: at most this many, 0: no limit; trigger fixed: 0 = solver "
        "only, unless M is 0)")
      .min = 0;
  s.add("hybrid.solver_steps", KeyType::Int, "1", "M: solver steps per cycle (0: surrogate only, whatever K)").min = 0;
  s.add("hybrid.trigger", KeyType::Choice, "fixed",
        "fixed: the solver after every K surrogate steps; divergence: also when a surrogate step's divergence "
        "indicator exceeds hybrid.threshold (that step is then taken by the solver)")
      .choices = {"fixed", "divergence"};
  // >= 0 in the schema, > 0 for the divergence trigger (check_schedule): a deck of the fixed
  // trigger with threshold 0, which reads no threshold, stays valid.
  s.add("hybrid.threshold", KeyType::Float, "0.1",
        "divergence trigger: level of the indicator (> 0), the L2 norm of div u over that of grad u for the linear "
        "interpolant of the vertex velocity (dimensionless; docs/hybrid.md)")
      .min = 0;
  s.add("hybrid.pure_solver", KeyType::Bool, "true",
        "also run the solver alone over the same steps (same mesh, ranks and threads) for its wall time and error");
  s.section("solver", "the PETSc Navier-Stokes solver; the fluid and inflow come from the dataset (docs/hybrid.md)");
  s.add("solver.petsc_options", KeyType::String, "",
        "PETSc options (default -pc_type lu -pc_factor_mat_solver_type mumps, with -ksp_type preonly where "
        "solver.refactor_every is 1, else gmres); command-line PETSc options override these");
  auto& nu = s.add("solver.viscosity", KeyType::Float, "",
                   "kinematic viscosity; default: flow.viscosity of the tessera-cfd deck stored in the dataset");
  nu.min = 0;
  nu.min_exclusive = true;
  s.add("solver.refactor_every", KeyType::Int, "", "LU refactorisation period; default: the dataset's").min = 1;
  auto& rtol = s.add("solver.rtol", KeyType::Float, "", "Krylov tolerance; default: the dataset's");
  rtol.min = 0;
  rtol.min_exclusive = true;
  rtol.max = 1;  // PETSc refuses rtol >= 1 (as "Argument out of range", without the key)
  rtol.max_exclusive = true;
  s.read_only_when("hybrid.threshold", {{"hybrid.trigger", {"divergence"}}});
  // M = 0 without the solver-alone run: no solver step is taken.
  for (const char* k : {"solver.refactor_every", "solver.rtol", "solver.petsc_options"})
    s.read_only_when(k, {io::not_one_of("hybrid.solver_steps", {"0"}), {"hybrid.pure_solver", {"true"}}},
                     "no solver step is taken");
  // M = 0 on the fixed schedule: the surrogate takes every step, and K cuts nothing (K = 0 too).
  s.read_only_when("hybrid.surrogate_steps",
                   {io::not_one_of("hybrid.solver_steps", {"0"}), {"hybrid.trigger", {"divergence"}}},
                   "the surrogate takes every step");
}

HybridOptions hybrid_options(const io::Deck& d) {
  HybridOptions o;
  Schedule& s = o.schedule;
  s.surrogate_steps = d.get_int("hybrid.surrogate_steps");
  s.solver_steps = d.get_int("hybrid.solver_steps");
  s.trigger = d.get_string("hybrid.trigger") == "divergence" ? Trigger::Divergence : Trigger::Fixed;
  s.threshold = d.get_float("hybrid.threshold");
  try {
    check_schedule(s);
  } catch (const Error& e) {
    d.fail(e.key(), e.what());
  }
  o.solver.petsc_options = d.has("solver.petsc_options") ? d.get_string("solver.petsc_options") : "";
  if (const std::string problem = solvers::petsc_options_problem(o.solver.petsc_options); !problem.empty())
    d.fail("solver.petsc_options", problem);
  if (d.has("solver.viscosity")) o.solver.viscosity = d.get_float("solver.viscosity");
  if (d.has("solver.refactor_every")) o.solver.refactor_every = d.get_int32("solver.refactor_every");
  if (d.has("solver.rtol")) o.solver.rtol = d.get_float("solver.rtol");
  o.checkpoint = d.resolve_path(d.get_string("rollout.checkpoint"));
  o.device = read_device(d, "rollout.device");
  o.threads = d.get_int("rollout.threads");
  if (d.has("data.dir")) o.data_dir = d.resolve_path(d.get_string("data.dir"));
  o.split = d.get_string("data.split");
  o.trajectory = d.get_int("rollout.trajectory");
  o.steps = d.get_int("rollout.steps");
  o.pure_solver = d.get_bool("hybrid.pure_solver");
  o.output_base = d.get_output_dir("output.dir") + "/" + d.get_file_name("output.name");
  o.vtu = d.get_bool("output.vtu");
  o.deck_yaml = d.resolved_yaml();
  return o;
}

}  // namespace tessera::train::hybrid
