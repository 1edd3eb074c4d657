#include "physics/vorticity_residual.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.hpp"

namespace tessera::physics {

void VorticityStepOptions::validate() const {
  if (!std::isfinite(nu) || nu < 0) throw Error(cat("vorticity step: viscosity must be >= 0, got ", nu));
  if (!std::isfinite(dt) || dt <= 0) throw Error(cat("vorticity step: time step must be > 0, got ", dt));
  if (!std::isfinite(drag) || drag < 0) throw Error(cat("vorticity step: drag must be >= 0, got ", drag));
  if (!(theta >= 0 && theta <= 1)) throw Error(cat("vorticity step: theta must be in [0, 1], got ", theta));
  if (forcing && forcing->wavenumber < 1)
    throw Error(cat("vorticity step: forcing wavenumber must be >= 1, got ", forcing->wavenumber));
  if (forcing && !std::isfinite(forcing->amplitude)) throw Error("vorticity step: forcing amplitude must be finite");
}

at::Tensor kolmogorov_forcing(const PeriodicGrid& grid, const KolmogorovForcing& f, const at::TensorOptions& o) {
  const double k = 2 * std::numbers::pi * static_cast<double>(f.wavenumber) / grid.length();
  return f.amplitude * at::sin(k * grid.y(o));
}

at::Tensor vorticity_rhs(const PeriodicGrid& grid, const VorticityStepOptions& opt, const at::Tensor& w) {
  opt.validate();
  grid.check_field(w, "vorticity");
  const at::Tensor f =
      opt.forcing ? kolmogorov_forcing(grid, *opt.forcing, w.options().requires_grad(false)) : at::Tensor();
  at::Tensor rhs = grid.vorticity_rhs(w, opt.nu, f, opt.discretization, opt.dealias);
  if (opt.drag != 0) rhs = rhs - opt.drag * w;
  return rhs;
}

at::Tensor vorticity_step_residual(const PeriodicGrid& grid, const VorticityStepOptions& opt, const at::Tensor& w_now,
                                   const at::Tensor& w_next) {
  opt.validate();
  grid.check_field(w_now, "vorticity at step n");
  grid.check_field(w_next, "vorticity at step n+1");
  if (w_now.sizes() != w_next.sizes())
    throw Error(cat("vorticity step: the two steps differ in shape, ", w_now.sizes(), " and ", w_next.sizes()));
  at::Tensor r = (w_next - w_now) / opt.dt;
  if (opt.theta != 1) r = r - (1 - opt.theta) * vorticity_rhs(grid, opt, w_now);
  if (opt.theta != 0) r = r - opt.theta * vorticity_rhs(grid, opt, w_next);
  return r;
}

}  // namespace tessera::physics
