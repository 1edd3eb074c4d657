#include "train/pinn/output.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/png.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_VTK
#include "io/vti.hpp"
#endif

namespace tessera::train::pinn {
namespace {

std::vector<double> values(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace

void write_case_outputs(const std::string& dir, const PinnOptions& o, const Evaluation& e) {
  write_fields(dir + "/fields.vti", dir + "/plot.png", e, o.deck_yaml);
}

void write_fields([[maybe_unused]] const std::string& vti, const std::string& png, const Evaluation& e,
                  [[maybe_unused]] const std::string& deck_yaml) {
  const int64_t nx = e.x.size(0), nt = e.t.size(0);
  const std::vector<double> pred = values(e.predicted), ref = values(e.reference),
                            err = values(e.predicted - e.reference);
#if TESSERA_HAVE_VTK
  io::write_vti(vti, nx, nt, {0.0, 0.0}, {2 * std::numbers::pi / double(nx), e.t_end / double(nt - 1)},
                {{"predicted", pred}, {"reference", ref}, {"error", err}}, deck_yaml);
#endif
  // Three panels (predicted, reference, error), each nx wide and 2 nt tall (t upwards) at the
  // default grid, 8 white columns apart; the fields share one range, both fields' finite values
  // (the reference's alone saturated a prediction beyond it: 0.54 to 0.97 against a reference of
  // 19 to 21 was one flat colour), the error is symmetric about 0.
  double lo = INFINITY, hi = -INFINITY;
  for (const std::vector<double>* field : {&pred, &ref})
    for (double v : *field)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) lo = 0, hi = 1;
  double emax = 0;
  for (double v : err) emax = std::max(emax, std::abs(v));
  if (!(emax > 0)) emax = 1;
  const auto upwards = [&](const at::Tensor& f) { return values(f.flip(0)); };
  // Each panel with its colour bar (the picture had no scale to read a size from), at least as
  // large as the default grid's (256 x 200 pixels): a coarse grid drawn a pixel per point gave a
  // picture too small for its titles (208 x 109 at nx = 64, nt = 32).
  const int64_t zoom_x = std::max<int64_t>(1, (256 + nx - 1) / nx), zoom_t = std::max<int64_t>(2, (200 + nt - 1) / nt);
  io::write_panels_png(png,
                       {{upwards(e.predicted), nx, nt, lo, hi, false, "predicted u (x right, t up)", true},
                        {upwards(e.reference), nx, nt, lo, hi, false, "reference u", true},
                        {upwards(e.predicted - e.reference), nx, nt, -emax, emax, false, "error", true}},
                       3, zoom_x, zoom_t, 8);
}

void write_error_table(const std::string& path, const std::vector<CaseResult>& rows) {
  std::string csv = "case,formulation,problem,c,nu,offset,rel_l2,rel_spectral,final_loss,steps,seconds\n";
  for (const CaseResult& r : rows)
    csv += cat(r.name, ",", r.formulation, ",", r.problem, ",", r.c, ",", r.nu, ",", r.offset, ",", r.rel_l2, ",",
               r.rel_spectral, ",", r.loss, ",", r.steps, ",", r.seconds, "\n");
  core::write_text_atomic(path, csv);
}

}  // namespace tessera::train::pinn
