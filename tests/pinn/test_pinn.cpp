// The Lagrangian PINN family (train/pinn/) against independent references: Taylor-mode and autograd
// losses and gradients agree (fp64), a short training reaches a small error against the exact
// solution, an interrupted run (in the Adam and in the L-BFGS phase) resumes bit for bit, deck
// errors name their key, the PNG writer's checksums match the PNG specification.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/png.hpp"
#include "io/schema.hpp"
#include "tessera/config.hpp"
#include "tests/test_paths.hpp"
#include "train/checkpoint.hpp"
#include "train/family.hpp"
#include "train/pinn/family.hpp"
#include "train/pinn/learner.hpp"
#include "train/pinn/options.hpp"
#if TESSERA_HAVE_VTK
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>
#endif

using namespace tessera;
using namespace tessera::train;
using namespace tessera::train::pinn;

namespace {

PinnOptions small(Formulation f, physics::Problem1D p) {
  PinnOptions o;
  o.formulation = f;
  o.problem = p;
  o.nx = 32;
  o.nt = 8;
  o.network.width = 12;
  o.network.hidden_layers = 3;
  o.network.outputs = f == Formulation::Eulerian ? 1 : 2;
  o.fp64 = true;
  o.name = "test";
  return o;
}

std::vector<at::Tensor> grads(PinnLearner& l) {
  for (auto& p : l.network()->parameters()) p.mutable_grad() = at::Tensor();
  l.loss().backward();
  std::vector<at::Tensor> g;
  for (auto& p : l.network()->parameters()) g.push_back(p.grad().clone());
  return g;
}

std::vector<at::Tensor> params(PinnLearner& l) {
  std::vector<at::Tensor> v;
  for (auto& p : l.network()->parameters()) v.push_back(p.detach().clone());
  return v;
}

io::Schema training_schema() {
  io::Schema s("tessera-train");
  add_training_keys(s, {pinn_family()});
  return s;
}

std::string deck_error(const std::string& yaml) {
  const io::Schema s = training_schema();
  try {
    const io::Deck d = io::Deck::parse(yaml, "deck.yaml", s);
    read_pinn_study(d);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Taylor-mode and autograd losses and gradients agree in fp64", "[pinn]") {
  const std::vector<physics::Problem1D> problems = {physics::Problem1D::advection(7.0),
                                                    physics::Problem1D::convection_diffusion(3.0, 0.1),
                                                    physics::Problem1D::burgers(0.01, 2.0)};
  for (Formulation f : {Formulation::Eulerian, Formulation::Lagrangian})
    for (const auto& p : problems)
      for (auto [separate, hard] : {std::pair{true, false}, std::pair{false, false}, std::pair{true, true}}) {
        PinnOptions o = small(f, p);
        o.seed = 5;
        o.separate_branches = separate;
        // A hard initial condition: the Taylor path transforms the network's jets
        // (physics::starting_from), the autograd path differentiates u0 + t N itself.
        o.hard_initial_condition = hard;
        PinnLearner taylor(o, nullptr);
        o.taylor = false;
        PinnLearner autograd(o, nullptr);
        const double lt = taylor.loss().item<double>(), la = autograd.loss().item<double>();
        INFO(formulation_name(f) << " " << p.name() << (separate ? ", separate" : ", shared")
                                 << (hard ? ", hard initial condition" : "") << ": " << lt << " vs " << la);
        CHECK(std::abs(lt - la) <= 1e-10 * std::abs(la));
        const auto gt = grads(taylor), ga = grads(autograd);
        for (size_t i = 0; i < gt.size(); ++i)
          CHECK((gt[i] - ga[i]).abs().max().item<double>() <= 1e-10 * (1 + ga[i].abs().max().item<double>()));
      }
}

TEST_CASE("the scaled displacement output is the unscaled one with its last row multiplied by U T", "[pinn]") {
  // Same network, displacement row of the last layer multiplied by U T, scaling off: the same loss
  // and prediction. U T = max(1, |c|) T for advection, (1 + |C|) T for Burgers.
  for (const auto& [p, unit] :
       std::vector<std::pair<physics::Problem1D, double>>{{physics::Problem1D::advection(70.0, 0.5), 35.0},
                                                          {physics::Problem1D::advection(-0.5), 1.0},
                                                          {physics::Problem1D::burgers(0.01, -2.0, 2.0), 6.0}}) {
    CHECK(displacement_scale(p) == unit);
    for (bool separate : {true, false}) {
      PinnOptions o = small(Formulation::Lagrangian, p);
      o.seed = 3;
      o.separate_branches = separate;
      PinnLearner scaled(o, nullptr);
      o.scale_displacement = false;
      PinnLearner plain(o, nullptr);
      const double unmodified = plain.loss().item<double>();
      {
        // The last layer's weight row and bias of output 0 (the displacement).
        at::NoGradGuard no_grad;
        const std::string last = (separate ? "mlp0.linear" : "mlp.linear") + std::to_string(o.network.hidden_layers);
        const auto named = plain.network()->named_parameters();
        named[last + ".weight"][0].mul_(unit);
        named[last + ".bias"][0].mul_(unit);
      }
      const double ls = scaled.loss().item<double>(), lp = plain.loss().item<double>();
      INFO(p.name() << ": " << ls << " vs " << lp);
      CHECK(std::abs(ls - lp) <= 1e-12 * std::abs(lp));
      CHECK(at::allclose(scaled.evaluate().predicted, plain.evaluate().predicted, 1e-12, 1e-12));
      // Without the multiplication the two differ (the check can fail).
      if (unit != 1.0) CHECK(std::abs(unmodified - lp) > 1e-6 * std::abs(lp));
    }
  }
  // A checkpoint written with one unit is refused by a learner with another.
  const std::string path = tessera::test::test_out() + "/pinn/unit.h5";
  std::filesystem::create_directories(tessera::test::test_out() + "/pinn");
  PinnOptions o = small(Formulation::Lagrangian, physics::Problem1D::advection(20.0));
  PinnLearner(o, nullptr).save(path);
  o.scale_displacement = false;
  o.resume = path;
  CHECK_THROWS_WITH(PinnLearner(o, nullptr), Catch::Contains("pinn.lpinn.scale_displacement"));
  // Another speed also gives another unit; the error names the speed, the key the user changed
  // (it named pinn.lpinn.scale_displacement).
  PinnOptions faster = small(Formulation::Lagrangian, physics::Problem1D::advection(30.0));
  faster.resume = path;
  try {
    PinnLearner(faster, nullptr);
    FAIL("a checkpoint of c = 20 resumed with c = 30");
  } catch (const Error& err) {
    CHECK(err.key() == "pinn.c");
    CHECK_THAT(err.what(), Catch::Contains("pinn.c = 20, the deck gives 30"));
  }
  // An Eulerian network has no displacement output: the setting does not bind its checkpoints
  // (the deck reader no longer reads it for formulation: pinn, and warns that it is idle).
  PinnOptions e = small(Formulation::Eulerian, physics::Problem1D::advection(20.0));
  e.scale_displacement = false;
  PinnLearner(e, nullptr).save(path);
  e.scale_displacement = true;
  e.resume = path;
  CHECK_NOTHROW(PinnLearner(e, nullptr));
}

TEST_CASE("a hard initial condition holds exactly at t = 0 and drops the initial-condition terms", "[pinn]") {
  for (Formulation f : {Formulation::Eulerian, Formulation::Lagrangian})
    for (const auto& p : {physics::Problem1D::advection(7.0), physics::Problem1D::burgers(0.01, 2.0)}) {
      INFO(formulation_name(f) << " " << p.name());
      PinnOptions o = small(f, p);
      o.seed = 9;
      o.hard_initial_condition = true;
      PinnLearner hard(o, nullptr);
      // The prediction's first time level is u0 = sin x + 2 (or sin x) on the grid, to rounding
      // (the LPINN's x_L = x0 there, so no interpolation error either).
      const Evaluation e = hard.evaluate();
      const at::Tensor u0 = at::sin(e.x) + p.C;
      CHECK((e.predicted[0] - u0).abs().max().item<double>() < 1e-12);
      CHECK((e.predicted[1] - e.reference[1]).abs().max().item<double>() > 1e-3);  // not the reference later
      // The loss is the residual terms alone: with the initial-condition weight changed it stays the same.
      o.weight_ic = 1;
      PinnLearner other_weight(o, nullptr);
      CHECK(hard.loss().item<double>() == other_weight.loss().item<double>());
    }
  // A checkpoint with one form is refused by a learner with the other.
  const std::string path = tessera::test::test_out() + "/pinn/hard.h5";
  std::filesystem::create_directories(tessera::test::test_out() + "/pinn");
  PinnOptions o = small(Formulation::Lagrangian, physics::Problem1D::advection(2.0));
  o.hard_initial_condition = true;
  PinnLearner(o, nullptr).save(path);
  o.hard_initial_condition = false;
  o.resume = path;
  CHECK_THROWS_WITH(PinnLearner(o, nullptr), Catch::Contains("pinn.initial_condition"));
}

TEST_CASE("the LPINN learns advection; the error is measured against the exact solution", "[pinn]") {
  // A small case (64 x 16 points, MLP 12 x 3, fp32): 100 Adam steps, then 50 L-BFGS steps of 20
  // iterations take the relative L2 error from ~1 to ~0.12 (full-size results: docs/pinn.md).
  PinnOptions o = small(Formulation::Lagrangian, physics::Problem1D::advection(5.0));
  o.nx = 64;
  o.nt = 16;
  o.fp64 = false;
  o.adam_steps = 100;
  PinnLearner l(o, nullptr);
  const double before = l.evaluate().rel_l2;
  double first = 0, last = 0;
  for (int i = 0; i < 150; ++i) {
    last = l.step();
    if (i == 0) first = last;
  }
  const Evaluation e = l.evaluate();
  INFO("loss " << first << " -> " << last << ", relative L2 error " << before << " -> " << e.rel_l2 << " (2-norm "
               << e.rel_spectral << ")");
  CHECK(before > 0.9);
  CHECK(e.rel_l2 < 0.25);
  CHECK(last < first / 100);
  // The evaluation compares with u0(x − ct) on the grid.
  const at::Tensor exact = at::sin(e.x.reshape({1, -1}) - 5.0 * e.t.reshape({-1, 1}));
  CHECK((e.reference - exact).abs().max().item<double>() < 1e-12);
}

TEST_CASE("an interrupted run resumes bit for bit, in the Adam and the L-BFGS phase", "[pinn]") {
  const std::string dir = tessera::test::test_out() + "/pinn/resume";
  std::filesystem::create_directories(dir);
  for (Formulation f : {Formulation::Eulerian, Formulation::Lagrangian}) {
    PinnOptions o = small(f, physics::Problem1D::burgers(0.01, 1.0));
    o.adam_steps = 3;
    o.lbfgs_iterations = 4;
    PinnLearner straight(o, nullptr);
    for (int i = 0; i < 7; ++i) straight.step();
    // Stop after 2 (Adam) and after 5 (L-BFGS) steps.
    PinnLearner a(o, nullptr);
    for (int i = 0; i < 2; ++i) a.step();
    a.save(dir + "/a.h5");
    o.resume = dir + "/a.h5";
    PinnLearner b(o, nullptr);
    CHECK(b.steps_done() == 2);
    // The case's seconds go on from the earlier run's (errors.csv counted this run's alone).
    const double first_seconds = attribute_real(load_checkpoint(dir + "/a.h5").attributes, "a.h5", "seconds");
    CHECK(first_seconds > 0);
    CHECK(b.seconds_before() == Approx(first_seconds).epsilon(1e-9));
    CHECK(a.seconds_before() == 0);
    for (int i = 0; i < 3; ++i) b.step();
    b.save(dir + "/b.h5");
    o.resume = dir + "/b.h5";
    PinnLearner c(o, nullptr);
    CHECK(c.in_lbfgs());
    CHECK(c.seconds_before() > b.seconds_before());
    for (int i = 0; i < 2; ++i) c.step();
    const auto p1 = params(straight), p2 = params(c);
    for (size_t i = 0; i < p1.size(); ++i) CHECK(at::equal(p1[i], p2[i]));
    CHECK(c.steps_done() == 7);
    // The comparison can fail: the same run stopped after 5 steps differs, so the two L-BFGS
    // steps after the second checkpoint moved the parameters.
    PinnOptions fresh = o;
    fresh.resume.clear();
    PinnLearner five(fresh, nullptr);
    for (int i = 0; i < 5; ++i) five.step();
    CHECK(!at::equal(params(five)[0], p1[0]));
    CHECK(checkpoint_family(dir + "/b.h5") == "pinn");
    // A checkpoint of another case is refused.
    o.name = "other";
    CHECK_THROWS_WITH(PinnLearner(o, nullptr), Catch::Contains("holds case 'test'"));
  }
}

TEST_CASE("deck errors name the key and what is expected", "[pinn]") {
  const std::string head = "model:\n  family: pinn\n";
  CHECK(deck_error(head + "pinn:\n  problem: burgers\n  nu: 0.01\n  offset: 5\n").empty());
  CHECK_THAT(deck_error(head + "pinn:\n  problem: burgers\n  nu: -0.01\n"), Catch::Contains("deck.yaml:5: pinn.nu"));
  CHECK_THAT(deck_error(head + "pinn:\n  c: fast\n"), Catch::Contains("pinn.c: expected a number"));
  CHECK_THAT(deck_error(head + "pinn:\n  formulation: hamiltonian\n"),
             Catch::Contains("pinn.formulation: expected one of: pinn, lpinn, both"));
  CHECK_THAT(deck_error(head + "pinn:\n  grid:\n    nx: 0\n"), Catch::Contains("pinn.grid.nx"));
  CHECK_THAT(deck_error(head + "pinn:\n  nu: 0.1\n"), Catch::Contains("advection has no viscosity"));
  CHECK_THAT(deck_error(head + "pinn:\n  problem: burgers\n"), Catch::Contains("burgers needs nu > 0"));
  CHECK_THAT(deck_error(head + "pinn:\n  sweep:\n    values: [1, 2]\n"), Catch::Contains("pinn.sweep.values"));
  CHECK_THAT(deck_error(head + "pinn:\n  sweep:\n    parameter: c\n"), Catch::Contains("needs at least one value"));
  // Burgers is carried at speed u: a swept c would be a column of errors.csv and nothing else.
  CHECK_THAT(deck_error(head + "pinn:\n  problem: burgers\n  nu: 0.01\n  sweep:\n    parameter: c\n    values: [3]\n"),
             Catch::Contains("pinn.sweep.values: burgers has no speed c: it is carried at speed u (got c = 3)"));
}

TEST_CASE("a study has one case per formulation and value", "[pinn]") {
  const io::Schema s = training_schema();
  const io::Deck d = io::Deck::parse(
      "model:\n  family: pinn\npinn:\n  formulation: both\n  sweep:\n    parameter: c\n    values: [0, 2.5, 70]\n",
      "deck.yaml", s);
  const auto cases = study_cases(read_pinn_study(d));
  REQUIRE(cases.size() == 6);
  CHECK(cases[0].name == "pinn_c0");
  CHECK(cases[1].name == "pinn_c2p5");
  CHECK(cases[5].name == "lpinn_c70");
  CHECK(cases[5].problem.c == 70);
  CHECK(cases[5].network.outputs == 2);
  CHECK(cases[0].network.outputs == 1);
  // Burgers over nu: its base nu is 0 (the key is not set), which the base problem's check refused
  // ("burgers needs nu > 0"), so no such sweep could run; each case's nu is checked instead.
  const auto burgers = study_cases(read_pinn_study(io::Deck::parse(
      "model:\n  family: pinn\npinn:\n  problem: burgers\n  sweep:\n    parameter: nu\n    values: [0.01, 0.02]\n",
      "deck.yaml", s)));
  REQUIRE(burgers.size() == 2);
  CHECK(burgers[1].problem.nu == 0.02);
  CHECK_THAT(deck_error("model:\n  family: pinn\npinn:\n  problem: burgers\n  sweep:\n    parameter: nu\n    "
                        "values: [0.01, 0]\n"),
             Catch::Contains("pinn.sweep.values: burgers needs nu > 0 (got 0)"));
}

#if TESSERA_HAVE_VTK
TEST_CASE("PNG plots: pixels written top row first, read back by VTK", "[pinn]") {
  const std::string path = tessera::test::test_out() + "/pinn_png/two_by_two.png";
  // Top row red, blue; bottom row green, white.
  io::write_png(path, 2, 2, {255, 0, 0, 0, 0, 255, 0, 255, 0, 255, 255, 255});
  std::ifstream in(path, std::ios::binary);
  std::string head(8, '\0');
  in.read(head.data(), 8);
  CHECK(head == "\x89PNG\r\n\x1a\n");
  vtkNew<vtkPNGReader> reader;
  reader->SetFileName(path.c_str());
  reader->Update();
  vtkImageData* image = reader->GetOutput();
  int dims[3];
  image->GetDimensions(dims);
  REQUIRE((dims[0] == 2 && dims[1] == 2));
  // VTK counts rows from the bottom: (0, 1) is the top-left pixel.
  auto px = [&](int x, int y, int c) { return static_cast<int>(image->GetScalarComponentAsDouble(x, y, 0, c)); };
  CHECK((px(0, 1, 0) == 255 && px(0, 1, 1) == 0 && px(0, 1, 2) == 0));
  CHECK((px(1, 1, 0) == 0 && px(1, 1, 2) == 255));
  CHECK((px(0, 0, 1) == 255 && px(1, 0, 0) == 255 && px(1, 0, 1) == 255));
  CHECK_THROWS_WITH(io::write_png(path, 2, 2, {1, 2, 3}), Catch::Contains("needs 12 bytes, got 3"));
  uint8_t rgb[3];
  io::colormap_rgb(0.0, -1.0, 1.0, rgb);
  CHECK((rgb[0] == 247 && rgb[1] == 247 && rgb[2] == 247));
}
#endif
