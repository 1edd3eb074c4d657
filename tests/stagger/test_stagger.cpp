// The NeuralStagger family (docs/neuralstagger.md) against independent references: the grouped
// bank against its solvers run one range at a time, per-solver independence through autograd, the
// assembly against hand-placed pieces (field[i::s, j::s]), distributed rounds and data-parallel
// training against one process (also run under mpirun), exact resume, a loss that training
// lowers, deck errors and the rollout's files. fp64 where results are compared.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "physics/flow_statistics.hpp"
#include "tessera/config.hpp"
#include "tests/test_paths.hpp"
#include "train/checkpoint.hpp"
#include "train/stagger/evaluation.hpp"
#include "train/stagger/family.hpp"
#include "train/stagger/learner.hpp"
#include "train/stagger/rollout.hpp"

using namespace tessera;
using namespace tessera::train;
using namespace tessera::train::stagger;

namespace {

const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

StaggerOptions small_options(int64_t s = 2, int64_t T = 2) {
  StaggerOptions o;
  o.n = 16;
  o.s = s;
  o.T = T;
  o.width = 6;
  o.blocks = 1;
  o.batch = 4;
  o.pool_size = 8;
  o.refresh = 1;
  o.warmup = 2;
  o.total_steps = 200;
  o.lr = 1e-2;
  o.fp64 = true;
  o.physics.nu = 1e-2;
  o.physics.drag = 0.1;
  o.physics.dt = 0.05;
  o.physics.forcing = physics::KolmogorovForcing{1.0, 2};
  o.initial = physics::RandomVorticityOptions{2, 2};
  o.validation_samples = 2;
  o.validation_steps = 3;
  o.seed = 5;
  return o;
}

std::string deck_error(const std::string& yaml) {
  io::Schema s("tessera-train");
  add_training_keys(s, {stagger_family()});
  try {
    const io::Deck d = io::Deck::parse(yaml, "deck.yaml", s);
    read_stagger_options(d);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string out_dir(const std::string& name) {
  // Appended, not `std::string(...) + "..." + name`: GCC 12 at -O1 warned (-Warray-bounds) inside
  // the inlined string concatenation, a false positive.
  std::string dir = tessera::test::test_out();
  dir.append("/stagger/").append(name);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("relative L2 error: the norm of the difference over the reference's, per field", "[stagger]") {
  // Two fields of known norms: b1 = 2 on 4 x 4 (norm 8) and a1 = b1 + 3 at one point (difference
  // norm 3): 3/8; b2 = 1 (norm 4), a2 = 0: 1. Dividing by the prediction's norm would give 3/√(64 +
  // 12 + 9) = 0.325... and 0/0.
  const at::Tensor b = at::stack({at::full({4, 4}, 2.0, at::kDouble), at::ones({4, 4}, at::kDouble)});
  at::Tensor a = b.clone();
  a[0][1][2] += 3;
  a[1].zero_();
  const at::Tensor r = relative_l2(a, b);
  REQUIRE(r.sizes() == at::IntArrayRef{2});
  CHECK(r[0].item<double>() == Approx(3.0 / 8.0).epsilon(1e-14));
  CHECK(r[1].item<double>() == Approx(1.0).epsilon(1e-14));
  // Leading dimensions are kept: [steps, batch, N, N] -> [steps, batch].
  CHECK(relative_l2(a.unsqueeze(0).expand({3, 2, 4, 4}), b.unsqueeze(0).expand({3, 2, 4, 4})).sizes() ==
        at::IntArrayRef{3, 2});
  // Many steps at once, as the formula gives them.
  const at::Tensor many_a = at::randn({150, 2, 4, 4}, at::kDouble), many_b = at::randn({150, 2, 4, 4}, at::kDouble);
  const at::Tensor whole = at::sqrt((many_a - many_b).square().sum({-2, -1}) / many_b.square().sum({-2, -1}));
  CHECK(at::allclose(relative_l2(many_a, many_b), whole, 1e-14, 0));
  // A blown-up fp32 state (|w| = 1e18, finite): its error is finite, 1e18 / 2 = 5e17 (in fp32
  // the squares' sum overflowed to inf).
  const at::Tensor huge = at::full({1, 4, 4}, 1e18, at::kFloat), two = at::full({1, 4, 4}, 2.0f, at::kFloat);
  CHECK(relative_l2(huge, two)[0].item<double>() == Approx(5e17).epsilon(1e-6));
}

TEST_CASE("a rollout that blows up is named at its first bad steps", "[stagger]") {
  // Six steps of two states: the error passes 10 at step 3 (a NaN error would count too) and the
  // second state is not finite from step 5.
  at::Tensor predicted = at::zeros({6, 2, 4, 4});
  at::Tensor error = at::full({6, 2}, 0.5, at::kDouble);
  CHECK(blow_up_warning(predicted, error, 0.05).empty());
  error[2][1] = 11.0;
  CHECK(blow_up_warning(predicted, error, 0.05) ==
        "the model's rollout blew up: its relative error passes 10 at step 3 (t = 0.15); the errors and fields after "
        "it are those of a diverged state (a model trained longer, or a shorter rollout.steps)");
  predicted[4][1][2][2] = std::numeric_limits<float>::infinity();
  CHECK_THAT(blow_up_warning(predicted, error, 0.05),
             Catch::Contains("passes 10 at step 3 (t = 0.15), and its state is not finite from step 5 (t = 0.25)"));
  error.fill_(0.5);
  error[3][0] = std::nan("");
  CHECK_THAT(blow_up_warning(predicted, error, 0.05), Catch::Contains("passes 10 at step 4"));
  // Seen in two chunks of three steps, the same steps are named.
  BlowUp chunks;
  chunks.update(predicted.slice(0, 0, 3), error.slice(0, 0, 3), 0);
  chunks.update(predicted.slice(0, 3, 6), error.slice(0, 3, 6), 3);
  CHECK(chunks.warning(0.05) == blow_up_warning(predicted, error, 0.05));
}

TEST_CASE("a range of the solver bank equals those solvers of the whole bank", "[stagger]") {
  at::manual_seed(1);
  const CoarseSolverBank bank(CoarseSolverShape{8, 5, 4, 2, 3}, f64);
  const at::Tensor x = at::randn({3, 5, 6, 6}, f64);
  const at::Tensor all = bank.forward(x, 0, 8);
  REQUIRE(all.sizes() == at::IntArrayRef({3, 8, 6, 6}));
  for (const auto& [a, b] : {std::pair{0, 3}, std::pair{3, 8}, std::pair{5, 6}, std::pair{2, 2}})
    if (b > a) CHECK(max_diff(bank.forward(x, a, b), all.narrow(1, a, b - a)) < 1e-13);
  CHECK_THROWS_WITH(bank.forward(x, 4, 9), Catch::Contains("outside [0, 8)"));
}

TEST_CASE("each coarse solver depends on its own weights only", "[stagger]") {
  at::manual_seed(2);
  const CoarseSolverBank bank(CoarseSolverShape{4, 3, 4, 1, 3}, f64);
  const at::Tensor x = at::randn({2, 3, 4, 4}, f64);
  // d(sum of solver 2's output) / d(weights): non-zero only in solver 2's slices.
  bank.forward(x, 0, 4).select(1, 2).sum().backward();
  for (const auto& p : bank.parameters()) {
    const at::Tensor g = p.value().grad();
    const int64_t per = g.size(0) / 4;
    for (int64_t solver = 0; solver < 4; ++solver) {
      const double norm = g.narrow(0, solver * per, per).abs().sum().item<double>();
      INFO(p.key() << " solver " << solver);
      if (solver == 2)
        CHECK(norm > 0);
      else
        CHECK(norm == 0);
    }
  }
}

TEST_CASE("the model interleaves each solver's piece at field[i::s, j::s] of step tau", "[stagger]") {
  for (const auto& [s, T] : {std::pair<int64_t, int64_t>{1, 1}, {2, 1}, {2, 2}, {4, 2}}) {
    const StaggerOptions o = small_options(s, T);
    at::manual_seed(3);
    StaggerModel model(o, FeatureScales{2, 0.5, 1, 3}, f64);
    // Zero projection weights, bias c_g = g + 1: solver g adds (τ + 1) ∆t · scale · (g + 1).
    {
      at::NoGradGuard no_grad;
      model.bank().parameters()["project.weight"].zero_();
      model.bank().parameters()["project.bias"].copy_(at::arange(1, o.solvers() + 1, f64));
    }
    const at::Tensor w = physics::random_vorticity(model.grid(), o.initial, 2, 4);
    at::Tensor predicted;
    {
      at::NoGradGuard no_grad;
      predicted = model.forward(w);
    }
    REQUIRE(predicted.sizes() == at::IntArrayRef({T, 2, 16, 16}));
    for (int64_t tau = 0; tau < T; ++tau)
      for (int64_t i = 0; i < s; ++i)
        for (int64_t j = 0; j < s; ++j) {
          const int64_t g = tau * s * s + i * s + j;
          const double shift = double(tau + 1) * o.physics.dt * 3 * double(g + 1);
          const at::Tensor expected = w.slice(1, i, 16, s).slice(2, j, 16, s) + shift;
          CHECK(max_diff(predicted[tau].slice(1, i, 16, s).slice(2, j, 16, s), expected) < 1e-13);
        }
  }
}

TEST_CASE("rounds with the solvers spread over the ranks equal one process", "[stagger][mpi]") {
  const Comm world;
  for (const auto& [s, T] : {std::pair<int64_t, int64_t>{2, 2}, {1, 1}, {4, 1}}) {
    const StaggerOptions o = small_options(s, T);
    at::manual_seed(4);
    const StaggerModel model(o, measure_scales(o, 4, 1), f64);
    const at::Tensor w0 = physics::random_vorticity(model.grid(), o.initial, 3, 6);
    const at::Tensor one = model_rollout(model, w0, 5, Comm::self());
    const at::Tensor spread = model_rollout(model, w0, 5, world);
    REQUIRE(spread.sizes() == at::IntArrayRef({5, 3, 16, 16}));
    INFO("s = " << s << ", T = " << T << ", ranks " << world.size());
    CHECK(max_diff(one, spread) < 1e-12);
  }
}

TEST_CASE("training lowers the physics loss and a resumed run is bit-identical", "[stagger]") {
  const StaggerOptions o = small_options();
  const std::string dir = out_dir(cat("resume_", Comm().size()));
  const Comm world;
  StaggerLearner straight(o, world, nullptr);
  const at::Tensor w = physics::random_vorticity(straight.model().grid(), o.initial, 4, 99);
  const double before = straight.physics_loss(w).item<double>();
  for (int i = 0; i < 6; ++i) straight.step();
  StaggerLearner first(o, world, nullptr);
  for (int i = 0; i < 3; ++i) first.step();
  first.save(dir + "/half.h5");
  StaggerOptions r = o;
  r.resume = dir + "/half.h5";
  StaggerLearner resumed(r, world, nullptr);
  CHECK(resumed.steps_done() == 3);
  for (int i = 0; i < 3; ++i) resumed.step();
  for (const auto& p : straight.model().bank().parameters())
    CHECK(at::equal(p.value(), resumed.model().bank().parameters()[p.key()]));
  CHECK(at::equal(straight.pool(), resumed.pool()));
  for (int i = 0; i < 60; ++i) straight.step();
  const double after = straight.physics_loss(w).item<double>();
  INFO("physics loss " << before << " -> " << after);
  CHECK(after < 0.5 * before);
  // Another configuration does not resume from it.
  StaggerOptions other = r;
  other.width = 8;
  CHECK_THROWS_WITH(StaggerLearner(other, world, nullptr),
                    Catch::Contains("other stagger settings: stagger.network.width = ") &&
                        Catch::Contains(cat(", the deck gives 8")));
  other = r;
  other.pool_size = 16;  // named as its own key with both values (it said "differs", keyed train.resume)
  CHECK_THROWS_WITH(StaggerLearner(other, world, nullptr), Catch::Contains("stagger.pool.size = 8, the deck gives 16"));
  other = r;
  other.fp64 = !r.fp64;
  CHECK_THROWS_WITH(StaggerLearner(other, world, nullptr),
                    Catch::Contains(r.fp64 ? "stagger.precision = fp64, the deck gives fp32"
                                           : "stagger.precision = fp32, the deck gives fp64"));
}

TEST_CASE("a step whose loss is not finite is counted, so that the loop names it", "[stagger]") {
  // A learning rate that blows the weights up after the first update: the first loss is finite,
  // a later one not. That step was not counted, and the loop said "diverged at step 1" of a run
  // whose loss.csv held a finite step 1.
  StaggerOptions o = small_options();
  o.lr = 1e6;
  o.fp64 = false;  // fp32's range is what a diverging run leaves first
  o.warmup = 0;
  o.grad_clip = 0;
  StaggerLearner l(o, Comm(), nullptr);
  int64_t calls = 0;
  double loss = 0;
  while (std::isfinite(loss) && calls < 20) loss = l.step(), ++calls;
  REQUIRE_FALSE(std::isfinite(loss));
  CHECK(calls > 1);
  CHECK(l.steps_done() == calls);
}

TEST_CASE("a resumed run continues the decay a time budget had advanced", "[stagger]") {
  // 3 steps (warm-up 2 of 200) with half a budget used by the third: position 2 + 0.5 x 198 =
  // 101, so the next step's is 102. Resumed with a fresh budget, the first step is there (102,
  // then 103 is stored) instead of going back to 3.
  const StaggerOptions o = small_options();
  const std::string dir = out_dir(cat("budget_", Comm().size()));
  const Comm world;
  StaggerLearner first(o, world, nullptr);
  for (int i = 0; i < 3; ++i) {
    first.set_time_fraction(i < 2 ? 0.0 : 0.5);
    first.step();
  }
  first.save(dir + "/half.h5");
  CHECK(train::load_checkpoint(dir + "/half.h5").attributes.at("schedule_step") == "102");
  StaggerOptions r = o;
  r.resume = dir + "/half.h5";
  StaggerLearner resumed(r, world, nullptr);
  resumed.set_time_fraction(0.0);
  resumed.step();
  resumed.save(dir + "/resumed.h5");
  CHECK(train::load_checkpoint(dir + "/resumed.h5").attributes.at("schedule_step") == "103");
}

TEST_CASE("data-parallel training equals one process", "[stagger][mpi]") {
  const StaggerOptions o = small_options(2, 1);
  StaggerLearner one(o, Comm::self(), nullptr), spread(o, Comm(), nullptr);
  for (int i = 0; i < 3; ++i) {
    const double a = one.step(), b = spread.step();
    CHECK(std::abs(a - b) < 1e-12);
  }
  for (const auto& p : one.model().bank().parameters())
    CHECK(max_diff(p.value(), spread.model().bank().parameters()[p.key()]) < 1e-12);
}

TEST_CASE("a checkpoint resumes on another rank count", "[stagger][mpi]") {
  // Saved by all ranks and resumed by one, and saved by one and resumed by all: the three steps
  // after the resume give the weights of six uninterrupted steps on all ranks (data-parallel
  // training equals one process to rounding, above). Under mpirun this crosses rank counts.
  const StaggerOptions o = small_options(2, 1);
  const Comm world;
  const std::string dir = out_dir(cat("ranks_", world.size()));
  StaggerLearner straight(o, world, nullptr);
  for (int i = 0; i < 6; ++i) straight.step();
  auto same_weights = [&](const StaggerLearner& l) {
    for (const auto& p : straight.model().bank().parameters())
      CHECK(max_diff(p.value(), l.model().bank().parameters()[p.key()]) < 1e-12);
  };
  StaggerLearner by_all(o, world, nullptr);
  for (int i = 0; i < 3; ++i) by_all.step();
  by_all.save(dir + "/by_all.h5");
  if (world.root()) {
    StaggerLearner by_one(o, Comm::self(), nullptr);
    for (int i = 0; i < 3; ++i) by_one.step();
    by_one.save(dir + "/by_one.h5");
  }
  world.barrier();
  StaggerOptions r = o;
  r.resume = dir + "/by_all.h5";
  StaggerLearner alone(r, Comm::self(), nullptr);
  CHECK(alone.steps_done() == 3);
  for (int i = 0; i < 3; ++i) alone.step();
  same_weights(alone);
  r.resume = dir + "/by_one.h5";
  StaggerLearner together(r, world, nullptr);
  CHECK(together.steps_done() == 3);
  for (int i = 0; i < 3; ++i) together.step();
  same_weights(together);
  world.barrier();  // every rank has read both files before a later case writes there
}

TEST_CASE("stagger deck errors name the key and what is expected", "[stagger]") {
  const std::string head = "model:\n  family: stagger\n";
  CHECK(deck_error(head + "stagger:\n  s: 4\n").empty());
  CHECK_THAT(deck_error(head + "stagger:\n  s: 3\n"), Catch::Contains("stagger.s: N = 64 is not divisible by s = 3"));
  CHECK_THAT(deck_error(head + "stagger:\n  viscosity: 0\n"), Catch::Contains("stagger.viscosity"));
  CHECK_THAT(deck_error(head + "stagger:\n  viscosity: -1\n"), Catch::Contains("stagger.viscosity"));
  CHECK_THAT(deck_error(head + "stagger:\n  forcing: shear\n"), Catch::Contains("stagger.forcing"));
  CHECK_THAT(deck_error(head + "stagger:\n  network:\n    kernel: 4\n"), Catch::Contains("must be odd"));
  CHECK_THAT(deck_error(head + "stagger:\n  batch: 300\n"), Catch::Contains("stagger.pool.size"));
  CHECK_THAT(deck_error(head + "stagger:\n  grid:\n    n: 31\n  s: 1\n"), Catch::Contains("must be even"));
}

TEST_CASE("the rollout writes errors, a ParaView series and a PNG", "[stagger]") {
  const Comm world;
  const StaggerOptions o = small_options(2, 2);
  const std::string dir = out_dir(cat("rollout_", world.size()));
  StaggerLearner learner(o, world, nullptr);
  learner.step();
  learner.save(dir + "/checkpoint.h5");
  StaggerRolloutOptions r;
  r.checkpoint = dir + "/checkpoint.h5";
  // Over two chunks of whole rounds (64 steps and 6): the rollout streams its steps a chunk at a
  // time, compared here with one rollout of all 70.
  r.steps = 70;
  r.samples = 2;
  r.output_every = 3;
  r.output_dir = dir;
  r.name = "roll";
  // A frame an earlier, longer run left: removed, not kept beside this run's .pvd.
  if (world.root()) std::ofstream(dir + "/roll_50.vti") << "an earlier run's";
  world.barrier();
  run_stagger_rollout(r, world, nullptr);
  // The errors written, against norms taken here of the model's and the reference solver's
  // rollouts from the same seeded states: ‖p − r‖ / ‖r‖ per sample, its mean and max, and
  // persistence's ‖w0 − r‖ / ‖r‖.
  const std::unique_ptr<StaggerModel> model = load_stagger_model(r.checkpoint, "cpu", world);
  const StaggerOptions& mo = model->options();
  const at::TensorOptions model_type = model->bank().parameters()[0].value().options().requires_grad(false);
  const at::Tensor w0_model = physics::random_vorticity(model->grid(), mo.initial, r.samples, r.seed).to(model_type);
  const at::Tensor predicted = model_rollout(*model, w0_model, r.steps, world).to(at::kDouble);
  const at::Tensor reference =
      reference_rollout(reference_solver(mo), w0_model, r.steps, mo.physics.dt).to(at::kDouble);
  const at::Tensor w0 = w0_model.to(at::kDouble);
  if (!world.root()) return;
  const auto norm = [](const at::Tensor& f) { return f.pow(2).sum({-2, -1}).sqrt(); };  // [steps, samples]
  const at::Tensor error = norm(predicted - reference) / norm(reference);
  const at::Tensor persistence = norm(w0.unsqueeze(0) - reference) / norm(reference);
  std::ifstream csv(dir + "/roll_errors.csv");
  std::string line;
  REQUIRE(std::getline(csv, line));
  CHECK(line == "step,time,rel_l2_mean,rel_l2_max,persistence_mean,enstrophy_predicted,enstrophy_reference");
  int64_t k = 0;
  for (; std::getline(csv, line); ++k) {
    INFO("step " << k + 1 << ": " << line);
    std::vector<double> v;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) v.push_back(std::stod(cell));
    REQUIRE(v.size() == 7);
    CHECK(v[0] == double(k + 1));
    CHECK(v[1] == Approx(double(k + 1) * mo.physics.dt));
    CHECK(v[2] == Approx(error[k].mean().item<double>()).epsilon(1e-4));
    CHECK(v[3] == Approx(error[k].max().item<double>()).epsilon(1e-4));
    CHECK(v[4] == Approx(persistence[k].mean().item<double>()).epsilon(1e-4));
  }
  CHECK(k == 70);
  CHECK(std::filesystem::exists(dir + "/roll_vorticity.png"));
#if TESSERA_HAVE_VTK
  CHECK(std::filesystem::exists(dir + "/roll.pvd"));
  for (int k : {0, 3, 6, 63, 66, 69, 70}) CHECK(std::filesystem::exists(dir + cat("/roll_", k, ".vti")));
#endif
  CHECK_FALSE(std::filesystem::exists(dir + "/roll_50.vti"));
}
