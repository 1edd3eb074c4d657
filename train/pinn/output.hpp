// Files of a Lagrangian PINN case and study (docs/pinn.md): the predicted, reference and error
// space-time fields as VTK image data (fields.vti; x along the first axis, t along the second), a
// PNG of the three side by side (plot.png; t upwards), and the study's error table (errors.csv).
#pragma once
#include <string>
#include <vector>

#include "train/pinn/learner.hpp"

namespace tessera::train::pinn {

void write_case_outputs(const std::string& dir, const PinnOptions& options, const Evaluation& e);

// The fields of `e` as VTK image data at `vti` (with `deck_yaml` as its field data) and the three
// panels as a PNG at `png`: what write_case_outputs writes, on any grid of the evaluation's form.
void write_fields(const std::string& vti, const std::string& png, const Evaluation& e, const std::string& deck_yaml);

struct CaseResult {
  std::string name, formulation, problem;
  double c = 0, nu = 0, offset = 0;
  double rel_l2 = 0, rel_spectral = 0, loss = 0, seconds = 0;
  int64_t steps = 0;
};

// The error table as CSV, rewritten atomically.
void write_error_table(const std::string& path, const std::vector<CaseResult>& rows);

}  // namespace tessera::train::pinn
