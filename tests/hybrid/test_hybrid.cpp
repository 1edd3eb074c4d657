// The hybrid rollout (train/hybrid) against independent references: the divergence indicator on
// linear fields (known divergence), the schedule's keyed errors, surrogate-only equal to
// train::rollout, solver-only on a dataset that tessera-cfd's job made (with a viscosity other
// than the default, read back from the stored deck, and the drawn inflow speed recovered), the
// divergence trigger on states of known indicator, the hand-over in both directions, and
// np = 1 against np = 2. Writes the small CFD dataset <test_out>/hybrid/data (fixture
// hybrid_data for the app tests).
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/dataset.hpp"
#include "io/deck.hpp"
#include "io/mesh_deck.hpp"
#include "jobs/cfd_options.hpp"
#include "jobs/flow_dataset.hpp"
#include "jobs/flow_sample.hpp"
#include "mesh/structured.hpp"
#include "solvers/petsc_session.hpp"
#include "tests/error_key.hpp"
#include "tests/test_paths.hpp"
#include "train/hybrid/flow_config.hpp"
#include "train/hybrid/hybrid_rollout.hpp"
#include "train/hybrid/indicator.hpp"

using namespace tessera;
using namespace tessera::train;
using hybrid::Schedule;
using hybrid::Trigger;
using test::error_key;

namespace {

const std::string kDataDir = tessera::test::test_out() + "/hybrid/data";

// A small CylinderFlow dataset from tessera-cfd's own job and deck: one test trajectory of 12
// steps on a coarse mesh, ν = 2e-3 (not the default), started shortly after the impulsive start
// so the flow still changes.
jobs::DatasetOptions dataset_options() {
  io::Schema schema("tessera-cfd");
  io::add_mesh_keys(schema);
  jobs::add_case_keys(schema);
  jobs::add_dataset_keys(schema);
  const std::string yaml =
      "job: dataset\n"
      "mesh:\n  cylinder: {length: 1.6, height: 0.41, h_near: 0.015, h_far: 0.05}\n"
      "flow:\n  viscosity: 2.0e-3\n"
      "solver:\n  refactor_every: 1\n"
      "dataset:\n  dir: " +
      kDataDir +
      "\n  train: 0\n  valid: 0\n  test: 1\n  steps: 12\n  dt: 0.01\n  spinup: 0.4\n"
      "  overwrite: true\n"
      "  ranges: {center_x: [0.3, 0.35], center_y: [0.19, 0.22], radius: [0.05, 0.06], "
      "inflow_speed: [0.9, 1.2]}\n";
  return jobs::dataset_options(io::Deck::parse(yaml, "hybrid test deck", schema));
}

// The dataset (made once per run, by every rank together) and its trajectory.
const TrajectoryData& cfd_trajectory() {
  static const TrajectoryData t = [] {
    solvers::PetscSession petsc;
    core::LogOptions quiet;
    quiet.level = "off";
    jobs::generate_dataset(dataset_options(), Comm(), core::make_logger("test", Comm(), quiet));
    return prepare_trajectory(io::DatasetReader(kDataDir, "test").read(0), mesh::AugmentOptions{}, "cfd test");
  }();
  return t;
}

hybrid::TrajectoryFlow cfd_flow() {
  const TrajectoryData& t = cfd_trajectory();
  at::Tensor v = t.velocity[0].to(at::kDouble).contiguous();
  return hybrid::trajectory_flow(io::DatasetReader(kDataDir, "test").deck_yaml(), "cfd test", t.mesh,
                                 {v.data_ptr<double>(), v.data_ptr<double>() + v.numel()}, {});
}

// A small untrained transformer (predicting `bundle` steps per pass) with normalisers fitted to
// the trajectory.
struct TestModel {
  std::unique_ptr<Simulator> model;
  Normalizers norms;
  explicit TestModel(const TrajectoryData& t, int64_t bundle = 1) : norms(Normalizers::fresh(bundle)) {
    at::manual_seed(7);
    ModelOptions o;
    o.transformer.latent = 16;
    o.transformer.layers = 2;
    o.transformer.heads = 2;
    o.bundle = bundle;
    model = make_simulator(o, kNodeFeatures, kOutputChannels);
    model->module().eval();
    for (int64_t s = 0; s + bundle < t.steps(); ++s) {
      norms.node.accumulate(node_features(t.velocity[s], t));
      std::vector<at::Tensor> changes;
      for (int64_t j = 1; j <= bundle; ++j) changes.push_back(t.velocity[s + j] - t.velocity[s]);
      norms.target.accumulate(at::cat(changes, 1));
    }
  }
};

// u = (x, (σ - 1) y): div u = σ, |grad u|² = 1 + (σ - 1)².
at::Tensor linear_field(const mesh::Mesh& m, double sigma) {
  at::Tensor u = at::zeros({m.num_nodes(), 2}, at::kFloat);
  auto a = u.accessor<float, 2>();
  for (int64_t v = 0; v < m.num_nodes(); ++v) {
    a[v][0] = float(m.coords[v * 2]);
    a[v][1] = float((sigma - 1) * m.coords[v * 2 + 1]);
  }
  return u;
}
double linear_indicator(double sigma) { return std::abs(sigma) / std::sqrt(1 + (sigma - 1) * (sigma - 1)); }

}  // namespace

TEST_CASE("the divergence indicator of linear fields is |a + d| / |(a, b, c, d)|", "[hybrid]") {
  mesh::Mesh m = mesh::rectangle_grid(7, 5, 2.0, 0.5);
  auto field = [&](double a, double b, double c, double d, double e) {
    std::vector<double> u(m.num_nodes() * 2);
    for (int64_t v = 0; v < m.num_nodes(); ++v) {
      const double x = m.coords[v * 2], y = m.coords[v * 2 + 1];
      u[v * 2] = a * x + b * y + e;
      u[v * 2 + 1] = c * x + d * y - e;
    }
    return hybrid::divergence_indicator(m, u);
  };
  CHECK(field(1, 0, 0, -1, 0) == Approx(0).margin(1e-14));  // divergence-free
  CHECK(field(0.3, 2, -1, -0.3, 5) == Approx(0).margin(1e-14));
  CHECK(field(1, 0, 0, 1, 0) == Approx(std::sqrt(2.0)).epsilon(1e-12));
  CHECK(field(0.5, 2, -1, 1.5, 3) == Approx(2 / std::sqrt(0.25 + 4 + 1 + 2.25)).epsilon(1e-12));
  CHECK(field(0, 0, 0, 0, 4) == 0.0);  // uniform: no gradient
  CHECK_THROWS_WITH(hybrid::divergence_indicator(m, {1.0}), Catch::Contains("values for"));
}

TEST_CASE("schedules that cannot run give keyed errors", "[hybrid]") {
  // K = M = 0 is the surrogate alone (M = 0 whatever K), not an error (it was until 2026-12-07).
  CHECK(error_key([] { hybrid::check_schedule({0, 0, Trigger::Fixed, 0}); }) == "no error");
  CHECK(error_key([] { hybrid::check_schedule({5, 0, Trigger::Divergence, 0.1}); }) == "hybrid.solver_steps");
  CHECK(error_key([] { hybrid::check_schedule({5, 1, Trigger::Divergence, 0}); }) == "hybrid.threshold");
  CHECK(error_key([] { hybrid::check_schedule({0, 1, Trigger::Divergence, 0.1}); }) == "no error");
  CHECK(error_key([] { hybrid::check_schedule({5, 0, Trigger::Fixed, 0}); }) == "no error");
}

TEST_CASE("the solver is rebuilt with the dataset's fluid and the trajectory's inflow", "[hybrid]") {
  const TrajectoryData& t = cfd_trajectory();
  const hybrid::TrajectoryFlow flow = cfd_flow();
  const jobs::DatasetOptions o = dataset_options();
  CHECK(flow.flow.viscosity == 2e-3);
  CHECK(flow.linear.refactor_every == 1);
  CHECK(flow.flow.inflow_speed == Approx(jobs::draw_sample(o, 0).inflow_speed).epsilon(1e-6));
  // Without a stored tessera-cfd deck the viscosity must come from the deck.
  std::vector<double> uniform(t.mesh.num_nodes() * 2, 0.0);
  for (int64_t v = 0; v < t.mesh.num_nodes(); ++v) uniform[v * 2] = 1.0;
  const std::vector<double>& v0 = uniform;
  CHECK(error_key([&] { hybrid::trajectory_flow("", "x", t.mesh, v0, {}); }) == "solver.viscosity");
  hybrid::SolverOptions given;
  given.viscosity = 0.5;
  CHECK(hybrid::trajectory_flow("", "x", t.mesh, v0, given).flow.viscosity == 0.5);
  // The solver drives its flow along +x: a first state at rest at the inflow, a flow along y and
  // one towards -x are refused by the data's key, each saying so (a flow along y was reported as
  // a mesh without inflow nodes).
  std::vector<double> rest(v0.size(), 0.0), along_y(v0.size(), 0.0), backwards(v0.size(), 0.0);
  for (int64_t v = 0; v < t.mesh.num_nodes(); ++v) along_y[v * 2 + 1] = 1.0, backwards[v * 2] = -1.0;
  CHECK_THROWS_WITH(hybrid::trajectory_flow("", "x", t.mesh, rest, given), Catch::Contains("is at rest at its"));
  CHECK_THROWS_WITH(hybrid::trajectory_flow("", "x", t.mesh, along_y, given),
                    Catch::Contains("does not enter along +x") && Catch::Contains("mean |u_x| 0, mean |u_y| 1"));
  CHECK_THROWS_WITH(hybrid::trajectory_flow("", "x", t.mesh, backwards, given),
                    Catch::Contains("does not enter along +x") && Catch::Contains("fitted inflow peak -"));
  for (const auto* state : {&rest, &along_y, &backwards})
    CHECK(error_key([&] { hybrid::trajectory_flow("", "x", t.mesh, *state, given); }) == "data.dir");
  // The dataset's own inflow follows the parabola the solver imposes; a uniform inflow does not
  // (its least-squares parabola is off by about 0.3 of it in RMS).
  CHECK(flow.inflow_misfit < 0.02);
  const hybrid::TrajectoryFlow off = hybrid::trajectory_flow("", "x", t.mesh, uniform, given);
  CHECK(off.inflow_misfit > 0.2);
  CHECK(off.inflow_misfit < 0.5);
  // The deck's viscosity over the stored one is logged as the deck's, not the dataset's.
  const std::string stored = io::DatasetReader(kDataDir, "test").deck_yaml();
  CHECK(hybrid::trajectory_flow(stored, "cfd test", t.mesh, v0, given).source ==
        "solver.viscosity from this deck, the others from the tessera-cfd deck stored in cfd test");
  // Each setting the deck overrides is named (refactor_every was counted among the stored ones).
  hybrid::SolverOptions more = given;
  more.refactor_every = 3;
  CHECK(hybrid::trajectory_flow(stored, "cfd test", t.mesh, v0, more).source ==
        "solver.viscosity, solver.refactor_every from this deck, the others from the tessera-cfd deck stored in "
        "cfd test");
  hybrid::SolverOptions tolerance;
  tolerance.rtol = 1e-9;
  CHECK(hybrid::trajectory_flow(stored, "cfd test", t.mesh, v0, tolerance).source ==
        "solver.rtol from this deck, the others from the tessera-cfd deck stored in cfd test");
  // Another app's stored deck: none to take the fluid from. A tessera-cfd deck that does not
  // read is an error (it fell back to the defaults, a different solver, without a word).
  CHECK(error_key([&] { hybrid::trajectory_flow("import:\n  source: a.h5\n", "x", t.mesh, v0, {}); }) ==
        "solver.viscosity");
  const size_t flow_at = stored.find("\nflow:\n");
  REQUIRE(flow_at != std::string::npos);
  std::string damaged = stored;
  damaged.insert(flow_at + 7, "  new_key: 3\n");
  CHECK_THROWS_WITH(hybrid::trajectory_flow(damaged, "cfd test", t.mesh, v0, given),
                    Catch::Contains("new_key") && Catch::Contains("the tessera-cfd deck stored with the dataset does "
                                                                  "not read with this build's tessera-cfd"));
}

TEST_CASE("the rebuilt solver, started from rest like tessera-cfd, reproduces the dataset", "[hybrid]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  const hybrid::TrajectoryFlow flow = cfd_flow();
  solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
  for (int k = 0; k < 20; ++k) ns.step(0.02);  // the spin-up: llround(0.4 / (2 dt)) steps of 2 dt
  double worst = 0;
  for (int64_t s = 0; s < t.steps(); ++s) {
    if (s > 0) ns.step(0.01);
    at::Tensor u = at::tensor(ns.vertex_velocity(), at::kDouble).view({-1, 2});
    worst = std::max(worst, (u - t.velocity[s].to(at::kDouble)).abs().max().item<double>());
  }
  // float32 data, float32 mesh coordinates and the inflow fitted to float32 values.
  CHECK(worst < 1e-4 * flow.flow.inflow_speed);
}

TEST_CASE("surrogate only (M = 0) equals train::rollout", "[hybrid]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  TestModel m(t);
  const hybrid::TrajectoryFlow flow = cfd_flow();
  solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
  const int64_t steps = t.steps() - 1;
  const int64_t K = GENERATE(4, 0);  // K = 0 too: M = 0 is the surrogate alone whatever K
  CAPTURE(K);
  const auto h =
      hybrid::hybrid_rollout({K, 0, Trigger::Fixed, 0}, hybrid::model_step(*m.model, m.norms, t), ns, t, steps, 0.01);
  const Rollout r = rollout(*m.model, m.norms, t, steps);
  CHECK(h.solver_steps() == 0);
  CHECK(ns.steps() == 0);
  REQUIRE(h.rollout.predicted.sizes() == r.predicted.sizes());
  CHECK(at::equal(h.rollout.predicted, r.predicted));
  REQUIRE(h.rollout.rmse.size() == r.rmse.size());
  for (size_t k = 0; k < r.rmse.size(); ++k) {
    CHECK(h.rollout.rmse[k] == r.rmse[k]);
    CHECK(h.rollout.persistence_rmse[k] == r.persistence_rmse[k]);
  }
}

TEST_CASE("a bundling surrogate (3 steps per pass) with M = 0 equals train::rollout", "[hybrid]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  TestModel m(t, 3);
  const hybrid::TrajectoryFlow flow = cfd_flow();
  solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
  const int64_t steps = t.steps() - 1;  // 11: the last pass uses 2 of its 3 steps
  int64_t passes = 0;
  const hybrid::SurrogateStep counted = [&, step = hybrid::model_step(*m.model, m.norms, t)](const at::Tensor& v,
                                                                                             int64_t s) {
    ++passes;
    return step(v, s);
  };
  const auto h = hybrid::hybrid_rollout({4, 0, Trigger::Fixed, 0}, counted, ns, t, steps, 0.01);
  const Rollout r = rollout(*m.model, m.norms, t, steps);
  CHECK(passes == 4);
  REQUIRE(h.rollout.predicted.sizes() == r.predicted.sizes());
  CHECK(at::equal(h.rollout.predicted, r.predicted));
  for (size_t k = 0; k < r.rmse.size(); ++k) CHECK(h.rollout.rmse[k] == r.rmse[k]);
}

TEST_CASE("a bundle's steps are taken until the schedule hands over; the rest are dropped", "[hybrid]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  const hybrid::TrajectoryFlow flow = cfd_flow();
  solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
  // A 3-step "bundle" of the truth; records where each pass starts.
  std::vector<int64_t> starts;
  std::vector<at::Tensor> inputs;
  const hybrid::SurrogateStep surrogate = [&](const at::Tensor& state, int64_t s) {
    starts.push_back(s);
    inputs.push_back(state.clone());
    return t.velocity.narrow(0, s + 1, std::min<int64_t>(3, t.steps() - 1 - s)).clone();
  };
  const int64_t steps = t.steps() - 1;  // 11
  const auto h = hybrid::hybrid_rollout({4, 1, Trigger::Fixed, 0}, surrogate, ns, t, steps, 0.01);
  // Cycles of 4 surrogate steps (a full pass, then one step of a second pass) and 1 solver step.
  CHECK(h.by_solver == std::vector<char>{0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0});
  CHECK(starts == std::vector<int64_t>{0, 3, 5, 8, 10});
  // The pass after the solver starts from the solver's state; surrogate states are the bundle's.
  REQUIRE(inputs.size() == 5);
  CHECK(at::equal(inputs[2], h.rollout.predicted[5]));
  CHECK(at::equal(h.rollout.predicted[4], t.velocity[4]));
  CHECK(at::equal(h.rollout.predicted[7], t.velocity[7]));
}

TEST_CASE("a run the solver cannot continue ends early with the steps before it", "[hybrid]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  const hybrid::TrajectoryFlow flow = cfd_flow();
  solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
  // The truth, except that the surrogate's third step is NaN: the solver's turn (step 4) cannot
  // start from it. tessera-hybrid writes what the result holds, then reports stopped_by.
  const hybrid::SurrogateStep surrogate = [&](const at::Tensor&, int64_t s) {
    at::Tensor next = t.velocity[s + 1].clone();
    if (s == 2) next.fill_(std::numeric_limits<float>::quiet_NaN());
    return next;
  };
  const int64_t steps = t.steps() - 1;
  const auto h = hybrid::hybrid_rollout({3, 1, Trigger::Fixed, 0}, surrogate, ns, t, steps, 0.01);
  REQUIRE(h.stopped_by);
  CHECK_THAT(h.stopped_by->what(), Catch::Contains("state before step 4 is not finite"));
  CHECK(h.by_solver == std::vector<char>{0, 0, 0});
  CHECK(h.rollout.rmse.size() == 3);
  CHECK(h.rollout.predicted.size(0) == 4);
  CHECK(h.rollout.non_finite_from == 3);
  CHECK(ns.steps() == 0);
  // A run that completes has none.
  solvers::NavierStokes fresh(t.mesh, flow.flow, Comm::self(), flow.linear);
  const hybrid::SurrogateStep truth = [&](const at::Tensor&, int64_t s) { return t.velocity[s + 1].clone(); };
  CHECK_FALSE(hybrid::hybrid_rollout({3, 1, Trigger::Fixed, 0}, truth, fresh, t, 5, 0.01).stopped_by);
}

TEST_CASE("solver only (K = 0) continues the tessera-cfd dataset", "[hybrid]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  const hybrid::TrajectoryFlow flow = cfd_flow();
  solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
  const int64_t steps = t.steps() - 1;
  const auto h = hybrid::hybrid_rollout({0, 1, Trigger::Fixed, 0}, {}, ns, t, steps, 0.01);
  CHECK(h.solver_fraction() == 1.0);
  CHECK(ns.steps() == steps);
  const double rmse = h.rollout.rmse_over(steps), persistence = h.rollout.persistence_over(steps);
  // The data were made by the same solver from its own P2 state with BDF2 (the case above
  // reproduces them from rest); restarted from the stored vertex values (quadratic midpoints,
  // BDF1) it starts off by about one step's change, an error that then decays.
  INFO("solver-only RMSE " << rmse << ", persistence " << persistence);
  CHECK(persistence > 1e-2);
  CHECK(rmse < 0.2 * persistence);
  CHECK(h.rollout.rmse.back() < 0.1 * h.rollout.persistence_rmse.back());
  CHECK(h.rollout.rmse.back() < 0.7 * h.rollout.rmse.front());
}

TEST_CASE("the divergence trigger hands the step to the solver exactly when the indicator exceeds the threshold",
          "[hybrid]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  const hybrid::TrajectoryFlow flow = cfd_flow();
  solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
  // Step s of the surrogate gives u = (x, (σ - 1) y) with σ = 0.1 s: a known, growing indicator.
  auto sigma = [](int64_t s) { return 0.1 * double(s); };
  const hybrid::SurrogateStep surrogate = [&](const at::Tensor&, int64_t s) { return linear_field(t.mesh, sigma(s)); };
  const double threshold = 0.5 * (linear_indicator(0.3) + linear_indicator(0.4));  // between steps 3 and 4
  const int64_t steps = t.steps() - 1, M = 2;
  const auto h = hybrid::hybrid_rollout({0, M, Trigger::Divergence, threshold}, surrogate, ns, t, steps, 0.01);
  // Expected from the formula alone: surrogate steps while the indicator stays at or below the
  // threshold, then M solver steps, then the surrogate tries again (and is rejected again).
  std::vector<char> expected;
  int64_t rejected = 0;
  for (int64_t s = 0; s < steps;) {
    if (linear_indicator(sigma(s)) <= threshold) {
      expected.push_back(0);
      ++s;
    } else {
      ++rejected;
      for (int64_t k = 0; k < M && s < steps; ++k, ++s) expected.push_back(1);
    }
  }
  CHECK(h.by_solver == expected);
  CHECK(h.rejected == rejected);
  CHECK(expected[3] == 0);
  CHECK(expected[4] == 1);
  for (int64_t s = 0; s < 4; ++s) CHECK(h.indicator[s] == Approx(linear_indicator(sigma(s))).margin(1e-6));
  // The rejected surrogate state's indicator is recorded at the step it was rejected at (the
  // state after that step is the solver's); the step the schedule gives the solver has none.
  REQUIRE(h.surrogate_indicator.size() == size_t(steps));
  for (int64_t s = 0; s < 4; ++s) CHECK(h.surrogate_indicator[s] == h.indicator[s]);
  CHECK(h.surrogate_indicator[4] == Approx(linear_indicator(sigma(4))).margin(1e-6));
  CHECK(h.surrogate_indicator[4] > threshold);
  CHECK(std::isnan(h.surrogate_indicator[5]));
  // Accepted surrogate states are the surrogate's, solver states the solver's: step 4, whose
  // surrogate state was rejected, is one solver step from the accepted state 4 (as a solver
  // handed that state directly computes it), not the rejected state.
  CHECK(at::equal(h.rollout.predicted[3], linear_field(t.mesh, sigma(2))));
  CHECK(ns.steps() == std::count(expected.begin(), expected.end(), char(1)));
  solvers::NavierStokes direct(t.mesh, flow.flow, Comm::self(), flow.linear);
  at::Tensor v4 = h.rollout.predicted[4].to(at::kDouble).contiguous();
  direct.set_vertex_velocity({v4.data_ptr<double>(), v4.data_ptr<double>() + v4.numel()});
  direct.step(0.01);
  const auto u = direct.vertex_velocity();
  CHECK(at::equal(h.rollout.predicted[5], at::tensor(u, at::kDouble).view({-1, 2}).to(at::kFloat)));
  CHECK_FALSE(at::equal(h.rollout.predicted[5], linear_field(t.mesh, sigma(4))));
}

TEST_CASE("fixed schedule: K surrogate steps, M solver steps, each starting from the other's state", "[hybrid]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  const hybrid::TrajectoryFlow flow = cfd_flow();
  solvers::NavierStokes ns(t.mesh, flow.flow, Comm::self(), flow.linear);
  // A surrogate that returns the truth and records what it was given.
  std::vector<at::Tensor> inputs(t.steps());
  const hybrid::SurrogateStep surrogate = [&](const at::Tensor& state, int64_t s) {
    inputs[s] = state.clone();
    return t.velocity[s + 1].clone();
  };
  const int64_t steps = t.steps() - 1;
  const auto h = hybrid::hybrid_rollout({3, 2, Trigger::Fixed, 0}, surrogate, ns, t, steps, 0.01);
  const std::vector<char> expected = {0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0};
  CHECK(h.by_solver == expected);
  CHECK(h.solver_fraction() == Approx(4.0 / 11.0));
  // The surrogate continues from the solver's state (step 5 starts from state 5)...
  REQUIRE(inputs[5].defined());
  CHECK(at::equal(inputs[5], h.rollout.predicted[5]));
  // ...and the solver from the surrogate's: one BDF1 step from the true state 3 reproduces a
  // solver that was handed that state directly.
  solvers::NavierStokes direct(t.mesh, flow.flow, Comm::self(), flow.linear);
  at::Tensor v3 = t.velocity[3].to(at::kDouble).contiguous();
  direct.set_vertex_velocity({v3.data_ptr<double>(), v3.data_ptr<double>() + v3.numel()});
  direct.step(0.01);
  const auto u = direct.vertex_velocity();
  CHECK(at::equal(h.rollout.predicted[4], at::tensor(u, at::kDouble).view({-1, 2}).to(at::kFloat)));
}

TEST_CASE("np = 1 and np = 2 agree (the solver distributed, the surrogate on rank 0)", "[hybrid][mpi]") {
  solvers::PetscSession petsc;
  const TrajectoryData& t = cfd_trajectory();
  TestModel m(t);
  const hybrid::TrajectoryFlow flow = cfd_flow();
  const Schedule schedule{2, 1, Trigger::Fixed, 0};
  const int64_t steps = t.steps() - 1;
  solvers::NavierStokes serial(t.mesh, flow.flow, Comm::self(), flow.linear),
      parallel(t.mesh, flow.flow, Comm(), flow.linear);
  const auto a = hybrid::hybrid_rollout(schedule, hybrid::model_step(*m.model, m.norms, t), serial, t, steps, 0.01);
  const auto b =
      hybrid::hybrid_rollout(schedule, hybrid::model_step(*m.model, m.norms, t), parallel, t, steps, 0.01, Comm());
  CHECK(a.by_solver == b.by_solver);
  const double scale = a.rollout.predicted.abs().max().item<double>();
  CHECK((a.rollout.predicted - b.rollout.predicted).abs().max().item<double>() < 1e-5 * scale);
  for (size_t k = 0; k < a.rollout.rmse.size(); ++k)
    CHECK(b.rollout.rmse[k] == Approx(a.rollout.rmse[k]).epsilon(1e-4).margin(1e-7));
}
