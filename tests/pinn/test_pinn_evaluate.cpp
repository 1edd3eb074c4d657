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
#include "tests/error_key.hpp"
#include "tests/test_paths.hpp"
#include "train/family.hpp"
#include "train/pinn/evaluation.hpp"
#include "train/pinn/family.hpp"
#include "train/pinn/learner.hpp"
#include "train/pinn/options.hpp"
#if TESSERA_HAVE_VTK
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkXMLImageDataReader.h>
#endif

using namespace tessera;
using namespace tessera::train;
using namespace tessera::train::pinn;
using tessera::test::error_key;

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
  io::Schema schema("tessera-train");
  add_training_keys(schema, {pinn_family()});
  io::Schema eval_schema("tessera-rollout");
  add_evaluation_keys(eval_schema, {pinn_family()});
  // A sweep's cases (its deck stored whole in each checkpoint, the swept key written out too), both
  // formulations, in fp64 and in fp32 with a final time that fp32 does not hold (0.1), trained
  // briefly: the evaluation is compared with what the same network gives and with the exact
  // solution, not with a trained accuracy. A hard initial condition makes t = 0 exact on any grid.
  const double c = 3;
  for (const bool fp64 : {true, false}) {
    const double T = fp64 ? 0.5 : 0.1, tol = fp64 ? 1e-12 : 2e-6;
    const io::Deck deck = io::Deck::parse(
        cat("model:\n  family: pinn\npinn:\n  formulation: both\n  t_end: ", T,
            "\n  precision: ", fp64 ? "fp64" : "fp32",
            "\n  initial_condition: hard\n  grid:\n    nx: 32\n    nt: 8\n  network:\n    width: 12\n"
            "    hidden_layers: 3\n  adam:\n    steps: 20\n  sweep:\n    parameter: c\n    values: [3]\n"
            "train:\n  steps: 25\n"),
        dir + "/deck.yaml", schema);
    for (PinnOptions o : study_cases(read_pinn_study(deck))) {
      o.lbfgs_iterations = 3;
      const bool eulerian = o.formulation == Formulation::Eulerian;
      const std::string name = cat(o.name, fp64 ? "_fp64" : "_fp32");
      INFO(name);
      PinnLearner trained(o, nullptr);
      for (int i = 0; i < 25; ++i) trained.step();
      const std::string checkpoint = dir + "/" + name + ".h5";
      trained.save(checkpoint);
      const Evaluation own = trained.evaluate();
      auto evaluate = [&](const std::string& keys, const std::string& out) {
        const io::Deck d = io::Deck::parse(
            cat("rollout:\n  checkpoint: ", checkpoint, "\n", keys, "output:\n  dir: ", dir, "\n  name: ", out, "\n"),
            dir + "/evaluate.yaml", eval_schema);
        return run_pinn_evaluation(read_pinn_evaluation_options(d), Comm::self(), nullptr);
      };

      // The training's grid (keys left at 0): the trained learner's own evaluation, bit for bit.
      const Evaluation same = evaluate("", name + "_same");
      CHECK(at::equal(same.predicted, own.predicted));
      CHECK(same.rel_l2 == own.rel_l2);

      // On to 2T, 74 times as fine in t and twice in x: 64 x 1037 points, network and reference
      // in two blocks of times (1024 and 13); every 74th time and second x is a training point.
      constexpr int64_t m = 74, nt = 14 * m + 1;
      const Evaluation fine =
          evaluate(cat("pinn:\n  grid:\n    nx: 64\n    nt: ", nt, "\n  t_end: ", 2 * T, "\n"), name + "_fine");
      REQUIRE(fine.predicted.sizes() == at::IntArrayRef({nt, 64}));
      const at::Tensor nominal = at::arange(nt, at::kDouble) * (2 * T / (nt - 1));
      CHECK((fine.t - nominal).abs().max().item<double>() < (fp64 ? 1e-15 : 1e-7));
      const at::Tensor x = at::arange(64, at::kDouble) * (2 * std::numbers::pi / 64);
      CHECK((fine.x - x).abs().max().item<double>() < (fp64 ? 1e-15 : 1e-6));
      // The reference is the exact solution sin(x - c t) at the times evaluated.
      const at::Tensor exact = at::sin(fine.x.reshape({1, -1}) - c * fine.t.reshape({-1, 1}));
      CHECK((fine.reference - exact).abs().max().item<double>() < 1e-12);
      CHECK(fine.rel_l2 == Approx(rel(fine.predicted - exact, exact)).epsilon(1e-10));
      // With a hard initial condition both formulations give u0 = sin x at t = 0 on any grid (the
      // LPINN's points have not moved there).
      CHECK((fine.predicted[0] - at::sin(fine.x)).abs().max().item<double>() < tol);
      // The Eulerian network is evaluated point by point: where the grids share points it gives
      // the training grid's values (the LPINN's u is interpolated from points that moved, which
      // another grid places elsewhere).
      if (eulerian) {
        const at::Tensor shared = fine.predicted.slice(0, 0, 7 * m + 1, m).slice(1, 0, 64, 2);
        CHECK((shared - own.predicted).abs().max().item<double>() < tol);
      }

      // The CSV: each nominal time, its relative and largest error recomputed here, and whether
      // it lies past T (at fp32 the last trained time, 0.1, rounds to 0.10000000149).
      const auto rows = csv_rows(dir + "/" + name + "_fine_errors.csv");
      REQUIRE(rows.size() == static_cast<size_t>(nt));
      int64_t wrong = 0;
      for (int64_t n = 0; n < nt; ++n) {
        const at::Tensor e = fine.predicted[n] - exact[n];
        const bool ok = std::abs(rows[n][0] - nominal[n].item<double>()) <= 1e-15 &&
                        rows[n][1] == Approx(rel(e, exact[n])).epsilon(1e-9) &&
                        rows[n][2] == Approx(e.abs().max().item<double>()).epsilon(1e-9).margin(1e-14) &&
                        rows[n][3] == (n > 7 * m ? 1 : 0);
        if (!ok) {
          UNSCOPED_INFO("row " << n << ": " << rows[n][0] << ", " << rows[n][1] << ", " << rows[n][2] << ", "
                               << rows[n][3]);
          ++wrong;
        }
      }
      CHECK(wrong == 0);
      CHECK(std::filesystem::file_size(dir + "/" + name + "_fine_plot.png") > 0);
      CHECK(std::filesystem::file_size(dir + "/" + name + "_fine_errors.png") > 0);
#if TESSERA_HAVE_VTK
      // The image has the evaluation grid's size and spacing, and the evaluation's deck.
      vtkNew<vtkXMLImageDataReader> reader;
      const std::string vti = dir + "/" + name + "_fine_fields.vti";
      reader->SetFileName(vti.c_str());
      reader->Update();
      vtkImageData* image = reader->GetOutput();
      int dims[3];
      double spacing[3];
      image->GetDimensions(dims);
      image->GetSpacing(spacing);
      CHECK((dims[0] == 64 && dims[1] == nt));
      CHECK(spacing[0] == Approx(2 * std::numbers::pi / 64).epsilon(1e-14));
      CHECK(spacing[1] == Approx(2 * T / (nt - 1)).epsilon(1e-14));
      vtkDataArray* predicted = image->GetPointData()->GetArray("predicted");
      REQUIRE(predicted);
      CHECK(predicted->GetTuple1((nt - 1) * 64 + 5) == Approx(fine.predicted[nt - 1][5].item<double>()).epsilon(1e-12));
      // 8-bit characters, which VTK reads back as a signed-char array.
      auto* stored = vtkDataArray::SafeDownCast(image->GetFieldData()->GetAbstractArray("tessera_deck"));
      REQUIRE(stored);
      std::string text;
      for (vtkIdType i = 0; i < stored->GetNumberOfTuples(); ++i) text += static_cast<char>(stored->GetComponent(i, 0));
      CHECK_THAT(text, Catch::Contains("checkpoint: " + checkpoint) && Catch::Contains(cat("nt: ", nt)));
#endif

      // Grids beyond what one evaluation holds are refused before any work, naming the key given
      // (the larger where both are; two counts whose product overflows as well).
      CHECK_THROWS_WITH(evaluate("pinn:\n  grid:\n    nx: 100000\n    nt: 1000\n", name + "_huge"),
                        Catch::Contains("100000 x 1000 points (pinn.grid.nx x pinn.grid.nt): at most 10000000"));
      CHECK(error_key([&] { evaluate("pinn:\n  grid:\n    nt: 100000000\n", name + "_huge"); }) == "pinn.grid.nt");
      CHECK(error_key([&] { evaluate("pinn:\n  grid:\n    nx: 3037000500\n    nt: 3037000500\n", name + "_huge"); }) ==
            "pinn.grid.nx");
      if (!fp64) CHECK(error_key([&] { evaluate("pinn:\n  t_end: 1e300\n", name + "_far"); }) == "pinn.t_end");
    }
  }
}
