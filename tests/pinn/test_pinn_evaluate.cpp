// tessera-rollout's evaluation of a PINN case checkpoint (train/pinn/evaluation.hpp) against
// independent references: the exact advection solution computed here, the trained learner's own
// evaluation on its grid, and the network's values at the points two grids share.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "tessera/config.hpp"
#include "tests/test_paths.hpp"
#include "train/family.hpp"
#include "train/pinn/evaluation.hpp"
#include "train/pinn/family.hpp"
#include "train/pinn/learner.hpp"
#include "train/pinn/options.hpp"
#if TESSERA_HAVE_VTK
#include <vtkDataArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkXMLImageDataReader.h>
#endif

using namespace tessera;
using namespace tessera::train;
using namespace tessera::train::pinn;

namespace {

// The rows of a CSV below its header, as numbers.
std::vector<std::vector<double>> csv_rows(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

// ||a||_F / ||b||_F.
double rel(const at::Tensor& a, const at::Tensor& b) { return (a.norm() / b.norm()).item<double>(); }

}  // namespace

TEST_CASE("a case checkpoint evaluated on other grids and past its final time", "[pinn][evaluation]") {
  const std::string dir = tessera::test::test_out() + "/pinn/evaluate";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // Both formulations of one study, fp64, trained briefly (the errors need not be small: the
  // evaluation is compared with what the same network gives, and with the exact solution).
  io::Schema schema("tessera-train");
  add_training_keys(schema, {pinn_family()});
  const double c = 3, T = 0.5;
  const io::Deck deck = io::Deck::parse(
      "model:\n  family: pinn\npinn:\n  formulation: both\n  c: 3\n  t_end: 0.5\n  precision: fp64\n"
      "  grid:\n    nx: 32\n    nt: 8\n  network:\n    width: 12\n    hidden_layers: 3\n  adam:\n    steps: 20\n"
      "train:\n  steps: 25\n",
      dir + "/deck.yaml", schema);
  io::Schema eval_schema("tessera-rollout");
  add_evaluation_keys(eval_schema, {pinn_family()});
  for (PinnOptions o : study_cases(read_pinn_study(deck))) {
    o.lbfgs_iterations = 3;
    const bool eulerian = o.formulation == Formulation::Eulerian;
    INFO(o.name);
    PinnLearner trained(o, nullptr);
    for (int i = 0; i < 25; ++i) trained.step();
    const std::string checkpoint = dir + "/" + o.name + ".h5";
    trained.save(checkpoint);
    const Evaluation own = trained.evaluate();
    auto evaluate = [&](const std::string& keys, const std::string& name) {
      const io::Deck d = io::Deck::parse(
          cat("rollout:\n  checkpoint: ", checkpoint, "\n", keys, "output:\n  dir: ", dir, "\n  name: ", name, "\n"),
          dir + "/evaluate.yaml", eval_schema);
      return run_pinn_evaluation(read_pinn_evaluation_options(d), Comm::self(), nullptr);
    };

    // The training's grid (keys left at 0): the trained learner's own evaluation, bit for bit.
    const Evaluation same = evaluate("", o.name + "_same");
    CHECK(at::equal(same.predicted, own.predicted));
    CHECK(same.rel_l2 == own.rel_l2);

    // Twice as fine in x and t, on to 2T: every second point in x and t is a training point.
    const Evaluation fine = evaluate("pinn:\n  grid:\n    nx: 64\n    nt: 29\n  t_end: 1\n", o.name + "_fine");
    REQUIRE(fine.predicted.sizes() == at::IntArrayRef({29, 64}));
    // The reference is the exact solution sin(x - c t) on the new grid (t_n = 2T n / 28).
    const at::Tensor t = at::arange(29, at::kDouble) * (2 * T / 28),
                     x = at::arange(64, at::kDouble) * (2 * std::numbers::pi / 64);
    const at::Tensor exact = at::sin(x.reshape({1, -1}) - c * t.reshape({-1, 1}));
    CHECK((fine.reference - exact).abs().max().item<double>() < 1e-12);
    CHECK(fine.rel_l2 == Approx(rel(fine.predicted - exact, exact)).epsilon(1e-10));
    // The Eulerian network is evaluated point by point: where the grids share points (the first
    // 15 times, every second x) it gives the training grid's values.
    const at::Tensor shared = fine.predicted.slice(0, 0, 15, 2).slice(1, 0, 64, 2);
    if (eulerian) CHECK((shared - own.predicted).abs().max().item<double>() < 1e-12);
    // The LPINN's u is interpolated from its moving points onto the grid, so another grid moves
    // it; at t = 0, where the points have barely moved, both are close to u0 and to each other.
    CHECK((fine.predicted[0].slice(0, 0, 64, 2) - own.predicted[0]).abs().max().item<double>() <
          own.predicted[0].abs().max().item<double>());

    // The CSV: each time's relative error, recomputed here, and whether it lies beyond T.
    const auto rows = csv_rows(dir + "/" + o.name + "_fine_errors.csv");
    REQUIRE(rows.size() == 29);
    for (int64_t n = 0; n < 29; ++n) {
      const at::Tensor e = fine.predicted[n] - exact[n];
      CHECK(rows[n][0] == Approx(t[n].item<double>()).margin(1e-15));
      CHECK(rows[n][1] == Approx(rel(e, exact[n])).epsilon(1e-10));
      CHECK(rows[n][2] == Approx(e.abs().max().item<double>()).epsilon(1e-10));
      CHECK(rows[n][3] == (n > 14 ? 1 : 0));
    }
    CHECK(std::filesystem::file_size(dir + "/" + o.name + "_fine_plot.png") > 0);
    CHECK(std::filesystem::file_size(dir + "/" + o.name + "_fine_errors.png") > 0);
#if TESSERA_HAVE_VTK
    // The image's spacing follows the evaluation's grid, not the training's.
    vtkNew<vtkXMLImageDataReader> reader;
    const std::string vti = dir + "/" + o.name + "_fine_fields.vti";
    reader->SetFileName(vti.c_str());
    reader->Update();
    vtkImageData* image = reader->GetOutput();
    int dims[3];
    double spacing[3];
    image->GetDimensions(dims);
    image->GetSpacing(spacing);
    CHECK((dims[0] == 64 && dims[1] == 29));
    CHECK(spacing[0] == Approx(2 * std::numbers::pi / 64));
    CHECK(spacing[1] == Approx(2 * T / 28));
    vtkDataArray* predicted = image->GetPointData()->GetArray("predicted");
    REQUIRE(predicted);
    CHECK(predicted->GetTuple1(28 * 64 + 5) == Approx(fine.predicted[28][5].item<double>()).epsilon(1e-12));
#endif

    // A grid beyond what one evaluation holds is refused before any work, naming its key.
    CHECK_THROWS_WITH(evaluate("pinn:\n  grid:\n    nx: 100000\n    nt: 1000\n", o.name + "_huge"),
                      Catch::Contains("100000 x 1000 = 100000000 points (pinn.grid.nx x pinn.grid.nt): at most "
                                      "10000000 are evaluated at once"));
  }
}
