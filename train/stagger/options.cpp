#include "train/stagger/options.hpp"

#include <cmath>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/schema.hpp"
#include "train/checkpoint.hpp"
#include "train/device.hpp"
#include "train/family.hpp"

namespace tessera::train::stagger {

void StaggerOptions::validate() const {
  if (n < 4 || n % 2) throw Error(cat("N must be even and >= 4, got ", n), "stagger.grid.n");
  if (s < 1 || n % s) throw Error(cat("N = ", n, " is not divisible by s = ", s), "stagger.s");
  // sin(k y) on N points is zero at k = N/2 and aliases to a lower wavenumber above: the forcing
  // vanished, and its input channel, normalised by its own round-off rms, blew the training up.
  if (physics.forcing && physics.forcing->wavenumber >= n / 2)
    throw Error(
        cat("must be below half the grid (stagger.grid.n / 2 = ", n / 2, "), got ", physics.forcing->wavenumber),
        "stagger.forcing_wavenumber");
  if (kernel < 1 || kernel % 2 == 0) throw Error(cat("must be odd, got ", kernel), "stagger.network.kernel");
  // Periodic padding of (kernel - 1) / 2 points may wrap once around a coarse grid, not more
  // (torch's circular padding failed with an internal error).
  if ((kernel - 1) / 2 > n / s)
    throw Error(cat("a kernel of ", kernel, " points wraps more than once around the coarse grids of ", n / s,
                    " points a side (stagger.grid.n / stagger.s); at most ", 2 * (n / s) + 1),
                "stagger.network.kernel");
  // The reference solver's steps per neural step: a huge ratio ran for hours without a word.
  constexpr double kMaxReferenceSteps = 1e5;
  if (physics.dt / reference_dt > kMaxReferenceSteps)
    throw Error(cat("stagger.dt / stagger.reference_dt = ", physics.dt / reference_dt,
                    " reference solver steps per neural step; at most ", kMaxReferenceSteps),
                "stagger.reference_dt");
  if (lr_min > lr) throw Error(cat("must be <= stagger.lr (", lr, "), got ", lr_min), "stagger.lr_min");
  if (!(physics.nu > 0)) throw Error(cat("must be > 0, got ", physics.nu), "stagger.viscosity");
  if (pool_size < batch)
    throw Error(cat("must be >= stagger.batch (", batch, "), got ", pool_size), "stagger.pool.size");
  if (refresh > pool_size) throw Error(cat("must be <= stagger.pool.size, got ", refresh), "stagger.pool.refresh");
  physics.validate();
  initial.validate();
}

namespace {

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

}  // namespace

std::map<std::string, std::string> StaggerOptions::to_attributes() const {
  std::map<std::string, std::string> a;
  a["stagger.n"] = std::to_string(n);
  a["stagger.nu"] = num(physics.nu);
  a["stagger.drag"] = num(physics.drag);
  a["stagger.dt"] = num(physics.dt);
  a["stagger.theta"] = num(physics.theta);
  a["stagger.scheme"] = physics.discretization == physics::Discretization::Spectral ? "spectral" : "finite_difference";
  a["stagger.forcing"] = physics.forcing ? "kolmogorov" : "none";
  a["stagger.forcing.amplitude"] = num(physics.forcing ? physics.forcing->amplitude : 0);
  a["stagger.forcing.wavenumber"] = std::to_string(physics.forcing ? physics.forcing->wavenumber : 0);
  a["stagger.reference_dt"] = num(reference_dt);
  a["stagger.init.peak"] = num(initial.peak_wavenumber);
  a["stagger.init.rms"] = num(initial.rms);
  a["stagger.s"] = std::to_string(s);
  a["stagger.T"] = std::to_string(T);
  a["stagger.width"] = std::to_string(width);
  a["stagger.blocks"] = std::to_string(blocks);
  a["stagger.kernel"] = std::to_string(kernel);
  a["stagger.velocity_inputs"] = velocity_inputs ? "1" : "0";
  a["stagger.fp64"] = fp64 ? "1" : "0";
  return a;
}

StaggerOptions StaggerOptions::from_attributes(const std::map<std::string, std::string>& a, const std::string& path) {
  const auto get = [&](const std::string& k) -> const std::string& {
    const auto it = a.find(k);
    if (it == a.end()) throw Error(cat(path, ": not a NeuralStagger checkpoint (no attribute ", k, ")"));
    return it->second;
  };
  const auto count = [&](const std::string& k) {
    get(k);
    return attribute_count(a, path, k);
  };
  const auto real = [&](const std::string& k) {
    get(k);
    return attribute_real(a, path, k);
  };
  StaggerOptions o;
  o.n = count("stagger.n");
  o.physics.nu = real("stagger.nu");
  o.physics.drag = real("stagger.drag");
  o.physics.dt = real("stagger.dt");
  o.physics.theta = real("stagger.theta");
  o.physics.discretization = get("stagger.scheme") == "spectral" ? physics::Discretization::Spectral
                                                                 : physics::Discretization::FiniteDifference;
  if (get("stagger.forcing") == "kolmogorov")
    o.physics.forcing =
        physics::KolmogorovForcing{real("stagger.forcing.amplitude"), count("stagger.forcing.wavenumber")};
  o.reference_dt = real("stagger.reference_dt");
  o.initial.peak_wavenumber = real("stagger.init.peak");
  o.initial.rms = real("stagger.init.rms");
  o.s = count("stagger.s");
  o.T = count("stagger.T");
  o.width = count("stagger.width");
  o.blocks = count("stagger.blocks");
  o.kernel = count("stagger.kernel");
  o.velocity_inputs = get("stagger.velocity_inputs") == "1";
  o.fp64 = get("stagger.fp64") == "1";
  return o;
}

void add_stagger_keys(io::Schema& s) {
  using io::KeyType;
  s.section("stagger",
            "NeuralStagger (docs/neuralstagger.md): 2D periodic vorticity flow, s x s spatial and T temporal coarse "
            "solvers trained on the physics residual alone");
  s.add("stagger.grid.n", KeyType::Int, "64", "grid points per side N of [0, 2 pi)^2 (even)").min = 4;
  auto& nu = s.add("stagger.viscosity", KeyType::Float, "0.001", "kinematic viscosity nu (> 0; Re = 1/nu)");
  nu.min = 0;
  nu.min_exclusive = true;
  s.add("stagger.drag", KeyType::Float, "0.1", "linear drag alpha (-alpha omega in the equation)").min = 0;
  s.add("stagger.forcing", KeyType::Choice, "kolmogorov",
        "kolmogorov: f = A sin(k y) in the vorticity equation; none: decaying turbulence")
      .choices = {"kolmogorov", "none"};
  s.add("stagger.forcing_amplitude", KeyType::Float, "1", "A of the Kolmogorov forcing");
  s.add("stagger.forcing_wavenumber", KeyType::Int, "4", "k of the Kolmogorov forcing (periods across the box)").min =
      1;
  auto& dt = s.add("stagger.dt", KeyType::Float, "0.05", "time step of one neural step");
  dt.min = 0;
  dt.min_exclusive = true;
  auto& th = s.add("stagger.theta", KeyType::Float, "0.5", "theta of the time discretisation of the loss (0.5: CN)");
  th.min = 0;
  th.max = 1;
  s.add("stagger.scheme", KeyType::Choice, "spectral",
        "space discretisation of the physics loss: spectral (2/3-dealiased) or finite_difference (2nd order)")
      .choices = {"spectral", "finite_difference"};
  auto& rdt = s.add("stagger.reference_dt", KeyType::Float, "0.005",
                    "largest internal step of the spectral reference solver (IFRK4)");
  rdt.min = 0;
  rdt.min_exclusive = true;
  auto& pk = s.add("stagger.init.peak_wavenumber", KeyType::Float, "4",
                   "peak k_p of the energy spectrum (k/k_p)^4 exp(-2 (k/k_p)^2) of random initial states");
  pk.min = 0;
  pk.min_exclusive = true;
  auto& rms = s.add("stagger.init.rms", KeyType::Float, "4", "rms vorticity of random initial states");
  rms.min = 0;
  rms.min_exclusive = true;
  s.add("stagger.s", KeyType::Int, "2", "spatial factor: s x s staggered sub-grids of (N/s)^2 points (s divides N)")
      .min = 1;
  s.add("stagger.T", KeyType::Int, "1", "temporal pieces: solver tau predicts step t + tau from step t").min = 1;
  s.add("stagger.network.width", KeyType::Int, "24", "channels of each coarse solver").min = 1;
  s.add("stagger.network.blocks", KeyType::Int, "3", "residual blocks (two convolutions each) per solver").min = 0;
  s.add("stagger.network.kernel", KeyType::Int, "3", "convolution kernel size (odd; periodic padding)").min = 1;
  s.add("stagger.network.velocity_inputs", KeyType::Bool, "true",
        "also feed the velocity (u, v) computed spectrally from the assembled field");
  s.add("stagger.batch", KeyType::Int, "16", "states per training step (split over MPI ranks)").min = 1;
  s.add("stagger.pool.size", KeyType::Int, "256", "states in the training pool (random, then advanced by the model)")
      .min = 1;
  s.add("stagger.pool.refresh", KeyType::Int, "2", "pool states replaced by fresh random fields each step").min = 0;
  auto& lr = s.add("stagger.lr", KeyType::Float, "0.001", "peak AdamW learning rate (cosine decay to stagger.lr_min)");
  lr.min = 0;
  lr.min_exclusive = true;
  s.add("stagger.lr_min", KeyType::Float, "0.00001", "final learning rate").min = 0;
  s.add("stagger.warmup", KeyType::Int, "50", "learning-rate warm-up steps").min = 0;
  s.add("stagger.grad_clip", KeyType::Float, "1", "gradient norm clip (0: none)").min = 0;
  s.add("stagger.precision", KeyType::Choice, "fp32", "fp32 or fp64 parameters and fields").choices = {"fp32", "fp64"};
  add_threads_key(s, "stagger.threads", "1", "torch intra-op threads per rank; 0: torch's default");
  s.add("stagger.validation.samples", KeyType::Int, "4", "seeded random states validated against the reference").min =
      1;
  s.add("stagger.validation.steps", KeyType::Int, "10", "neural steps of the validation rollout").min = 1;
  s.add("stagger.validation.seed", KeyType::Int, "1000003", "seed of the validation states (not trained on)").min = 0;
  // Decaying turbulence has no forcing to size: set anyway, a warning (run_app).
  for (const char* k : {"stagger.forcing_amplitude", "stagger.forcing_wavenumber"})
    s.read_only_when(k, {{"stagger.forcing", {"kolmogorov"}}});
  s.read_only_when("stagger.lr_min", {io::below("stagger.warmup", "train.steps")}, "the warm-up takes every step");
}

StaggerOptions read_stagger_options(const io::Deck& d) {
  StaggerOptions o;
  o.n = d.get_int("stagger.grid.n");
  o.physics.nu = d.get_float("stagger.viscosity");
  o.physics.drag = d.get_float("stagger.drag");
  o.physics.dt = d.get_float("stagger.dt");
  o.physics.theta = d.get_float("stagger.theta");
  o.physics.discretization = d.get_string("stagger.scheme") == "spectral" ? physics::Discretization::Spectral
                                                                          : physics::Discretization::FiniteDifference;
  if (d.get_string("stagger.forcing") == "kolmogorov")
    o.physics.forcing =
        physics::KolmogorovForcing{d.get_float("stagger.forcing_amplitude"), d.get_int("stagger.forcing_wavenumber")};
  o.reference_dt = d.get_float("stagger.reference_dt");
  o.initial.peak_wavenumber = d.get_float("stagger.init.peak_wavenumber");
  o.initial.rms = d.get_float("stagger.init.rms");
  o.s = d.get_int("stagger.s");
  o.T = d.get_int("stagger.T");
  o.width = d.get_int("stagger.network.width");
  o.blocks = d.get_int("stagger.network.blocks");
  o.kernel = d.get_int("stagger.network.kernel");
  o.velocity_inputs = d.get_bool("stagger.network.velocity_inputs");
  o.batch = d.get_int("stagger.batch");
  o.pool_size = d.get_int("stagger.pool.size");
  o.refresh = d.get_int("stagger.pool.refresh");
  o.lr = d.get_float("stagger.lr");
  o.lr_min = d.get_float("stagger.lr_min");
  o.warmup = d.get_int("stagger.warmup");
  o.total_steps = d.get_int("train.steps");
  o.grad_clip = d.get_float("stagger.grad_clip");
  o.fp64 = d.get_string("stagger.precision") == "fp64";
  o.threads = d.get_int32("stagger.threads");
  o.validation_samples = d.get_int("stagger.validation.samples");
  o.validation_steps = d.get_int("stagger.validation.steps");
  o.validation_seed = static_cast<uint64_t>(d.get_int("stagger.validation.seed"));
  o.seed = static_cast<uint64_t>(d.get_int("train.seed"));
  o.device = read_device(d, "train.device");
  if (d.has("train.resume")) o.resume = d.resolve_path(d.get_string("train.resume"));
  o.deck_yaml = d.resolved_yaml();
  o.deck_dir = d.base_dir();
  try {
    o.validate();
  } catch (const Error& e) {
    if (e.key().empty()) throw;
    // The ratio of two keys is located at the one the deck gave: a --set stagger.dt was reported
    // at stagger.reference_dt, which the deck did not have (a review found it).
    if (e.key() == "stagger.reference_dt") {
      if (!d.given("stagger.reference_dt")) d.fail("stagger.dt", e.what());
      d.fail_pair("stagger.reference_dt", "stagger.dt", e.what());
    }
    d.fail(e.key(), e.what());
  }
  return o;
}

void add_stagger_rollout_keys(io::Schema& s) {
  using io::KeyType;
  s.section("stagger", "NeuralStagger rollouts (model.family stagger): seeded random states against the reference");
  s.add("stagger.samples", KeyType::Int, "2", "random initial states rolled out (the first is written as fields)").min =
      1;
  s.add("stagger.seed", KeyType::Int, "2000003", "seed of the initial states").min = 0;
  s.add("stagger.output_every", KeyType::Int, "5", "steps between .vti frames of the first state (0: none)").min = 0;
  add_threads_key(s, "stagger.threads", "1", "torch intra-op threads per rank; 0: torch's default");
}

StaggerRolloutOptions read_stagger_rollout_options(const io::Deck& d) {
  StaggerRolloutOptions o;
  o.checkpoint = d.resolve_path(d.get_string("rollout.checkpoint"));
  o.device = read_device(d, "rollout.device");
  o.steps = d.get_int("rollout.steps");
  if (o.steps == 0) o.steps = 50;
  o.samples = d.get_int("stagger.samples");
  o.seed = static_cast<uint64_t>(d.get_int("stagger.seed"));
  o.output_every = d.get_int("stagger.output_every");
  o.threads = d.get_int32("stagger.threads");
  o.output_dir = d.get_output_dir("output.dir");  // relative to the working directory, as every app's (docs/decks.md)
  o.name = d.get_file_name("output.name");
  o.deck_yaml = d.resolved_yaml();
  return o;
}

}  // namespace tessera::train::stagger
