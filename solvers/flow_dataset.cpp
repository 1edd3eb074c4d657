#include "solvers/flow_dataset.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/atomic_file.hpp"
#include "io/dataset.hpp"
#include "io/progress.hpp"
#include "mesh/error.hpp"
#include "mesh/gmsh_io.hpp"
#include "solvers/cfd_case.hpp"
#include "solvers/navier_stokes.hpp"

namespace tessera::solvers {

void add_dataset_keys(io::Schema& s) {
  s.section("dataset", "job: dataset — randomized cylinder flows (the channel and element sizes come from mesh.cylinder.*)");
  s.add("dataset.dir", io::KeyType::String, "out/cylinder-flow", "output directory (relative to the working directory)");
  s.add("dataset.train", io::KeyType::Int, "50", "trajectories in train.h5").min = 0;
  s.add("dataset.valid", io::KeyType::Int, "5", "trajectories in valid.h5").min = 0;
  s.add("dataset.test", io::KeyType::Int, "5", "trajectories in test.h5").min = 0;
  s.add("dataset.seed", io::KeyType::Int, "1", "seed of the parameter draws; trajectory i depends on (seed, i) only").min = 0;
  s.add("dataset.steps", io::KeyType::Int, "600", "stored time steps per trajectory").min = 2;
  auto& dt = s.add("dataset.dt", io::KeyType::Float, "0.01", "time between stored steps (also the solver step)");
  dt.min = 0;
  dt.min_exclusive = true;
  s.add("dataset.max_new", io::KeyType::Int, "0",
        "stop after generating this many trajectories (e.g. to fit a batch-queue time limit); rerun to continue; 0: no limit")
      .min = 0;
  s.add("dataset.spinup", io::KeyType::Float, "1.0", "simulated time from rest before the first stored step (taken in steps of 2 dt)").min = 0;
  auto range = [&](const char* key, const char* def, const char* doc) {
    s.add(std::string("dataset.ranges.") + key, io::KeyType::FloatList, def, doc).list_size = 2;
  };
  range("center_x", "[0.2, 0.4]", "cylinder centre x: [min, max]");
  range("center_y", "[0.16, 0.25]", "cylinder centre y: [min, max]");
  range("radius", "[0.03, 0.07]", "cylinder radius: [min, max]");
  range("inflow_speed", "[0.6, 2.0]", "peak inflow speed: [min, max] (with ν = 1e-3: Re from about 24 to 190)");
}

namespace {

// splitmix64: a fixed, portable generator, so draws do not depend on the standard library.
uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Split {
  std::string name;
  int64_t begin, end;  // global trajectory indices
};

std::vector<Split> splits_of(const io::Deck& d) {
  std::vector<Split> out;
  int64_t next = 0;
  for (const char* name : {"train", "valid", "test"}) {
    const int64_t n = d.get_int(std::string("dataset.") + name);
    if (n > 0) out.push_back({name, next, next + n});
    next += n;
  }
  if (out.empty()) d.fail("dataset.train", "dataset.train, dataset.valid and dataset.test are all 0");
  return out;
}

// Everything that determines trajectory i's data: a part file made with other settings is
// regenerated rather than reused. Linear-solver settings are left out on purpose: they change
// the data only at the solver tolerance.
std::string fingerprint(const io::Deck& d, const FlowSample& s) {
  std::ostringstream f;
  f.precision(17);
  f << "center " << s.center_x << " " << s.center_y << " radius " << s.radius << " inflow " << s.inflow_speed
    << " profile " << d.get_string("flow.inflow.profile") << " nu " << d.get_float("flow.viscosity") << " rho "
    << d.get_float("flow.density") << " steps " << d.get_int("dataset.steps") << " dt " << d.get_float("dataset.dt")
    << " spinup " << d.get_float("dataset.spinup");
  for (const char* k : {"length", "height", "h_near", "h_far", "transition"})
    f << " " << k << " " << d.get_float(std::string("mesh.cylinder.") + k);
  return f.str();
}

// Re = Ū D / ν, Ū = 2/3 of the parabola's peak.
double reynolds(const io::Deck& d, const FlowSample& s) {
  return 2.0 / 3.0 * s.inflow_speed * 2 * s.radius / d.get_float("flow.viscosity");
}

// <dir>/trajectories.csv: the parameters of every trajectory and, in its first line, the common
// settings. Written last, it marks a finished dataset; equal text means the same dataset.
std::string trajectory_table(const io::Deck& d, const std::vector<Split>& splits) {
  std::ostringstream t;
  t.precision(10);
  t << "# " << fingerprint(d, FlowSample{}) << "\n";
  t << "index,split,center_x,center_y,radius,inflow_speed,reynolds\n";
  for (const auto& sp : splits)
    for (int64_t i = sp.begin; i < sp.end; ++i) {
      const FlowSample s = draw_sample(d, i);
      t << i << "," << sp.name << "," << s.center_x << "," << s.center_y << "," << s.radius << "," << s.inflow_speed << ","
        << reynolds(d, s) << "\n";
    }
  return t.str();
}

mesh::Mesh sample_mesh(const io::Deck& d, const FlowSample& s) {
  mesh::CylinderChannel c;
  c.length = d.get_float("mesh.cylinder.length");
  c.height = d.get_float("mesh.cylinder.height");
  c.h_near = d.get_float("mesh.cylinder.h_near");
  c.h_far = d.get_float("mesh.cylinder.h_far");
  c.transition = d.get_float("mesh.cylinder.transition");
  c.cx = s.center_x;
  c.cy = s.center_y;
  c.radius = s.radius;
  mesh::Mesh m = mesh::build_cylinder_channel(c);
  mesh::assign_node_types(m, mesh::cylinder_node_types());
  return m;
}

// Solves one trajectory on this rank alone: spin-up from rest, then `steps` stored states.
io::Trajectory simulate(const io::Deck& d, const FlowSample& s, int64_t index, int64_t& nodes) {
  const mesh::Mesh m = sample_mesh(d, s);
  FlowConfig flow = flow_from_deck(d);
  flow.inflow_speed = s.inflow_speed;
  NavierStokes ns(m, flow, Comm::self(), linear_solver_from_deck(d));
  const double dt = d.get_float("dataset.dt"), max_cfl = d.get_float("time.max_cfl");
  const int64_t steps = d.get_int("dataset.steps");
  // The spin-up (not stored) takes steps of 2 dt: it only has to wash out the impulsive start.
  const int64_t spin = static_cast<int64_t>(std::llround(d.get_float("dataset.spinup") / (2 * dt)));
  const int64_t nv = m.num_nodes();
  nodes = nv;
  io::Trajectory t;
  io::add_mesh_fields(t, m);
  auto& vel = t["velocity"];
  auto& pres = t["pressure"];
  vel.shape = {hsize_t(steps), hsize_t(nv), 2};
  pres.shape = {hsize_t(steps), hsize_t(nv), 1};
  vel.f32.reserve(steps * nv * 2);
  pres.f32.reserve(steps * nv);
  auto advance = [&](int64_t k, double h) {
    const double t_next = ns.time() + h;
    try {
      ns.step(h);
      const double cfl = ns.max_cfl(h);
      if (cfl > max_cfl)
        throw Error(cat("CFL number ", cfl, " exceeds time.max_cfl = ", max_cfl, "; reduce dataset.dt or the inflow range"));
    } catch (const Error& e) {
      throw Error(cat("trajectory ", index, ", step ", k, " (t = ", t_next, "): ", e.what()));
    }
  };
  auto record = [&] {
    for (double v : ns.vertex_velocity()) vel.f32.push_back(static_cast<float>(v));
    for (double p : ns.vertex_pressure()) pres.f32.push_back(static_cast<float>(p));
  };
  for (int64_t k = 1; k <= spin; ++k) advance(k, 2 * dt);
  record();
  for (int64_t k = spin + 1; k < spin + steps; ++k) {
    advance(k, dt);
    record();
  }
  return t;
}

}  // namespace

FlowSample draw_sample(const io::Deck& d, int64_t index) {
  uint64_t state = static_cast<uint64_t>(d.get_int("dataset.seed")) * 0x100000001B3ull + static_cast<uint64_t>(index);
  for (int i = 0; i < 4; ++i) splitmix(state);  // decorrelate neighbouring seeds
  auto uniform = [&](const char* key) {
    auto r = d.get_floats(std::string("dataset.ranges.") + key);
    if (r[1] < r[0]) d.fail(std::string("dataset.ranges.") + key, "expected [min, max] with min <= max");
    const double u = static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53;
    return r[0] + (r[1] - r[0]) * u;
  };
  FlowSample s;
  s.center_x = uniform("center_x");
  s.center_y = uniform("center_y");
  s.radius = uniform("radius");
  s.inflow_speed = uniform("inflow_speed");
  return s;
}

DatasetSummary generate_dataset(const io::Deck& d, const Comm& comm, const std::shared_ptr<spdlog::logger>& log) {
  const std::string dir = d.get_string("dataset.dir");
  const std::string parts = dir + "/.parts";
  const auto splits = splits_of(d);
  const int64_t total = splits.back().end;
  const int64_t steps = d.get_int("dataset.steps");
  const io::DatasetMeta meta = io::DatasetMeta::cylinder_flow(steps, d.get_float("dataset.dt"));
  // Check the whole parameter range before spending time: every draw must give a valid geometry.
  for (int64_t i = 0; i < total; ++i) {
    const FlowSample s = draw_sample(d, i);
    const double h = d.get_float("mesh.cylinder.height"), len = d.get_float("mesh.cylinder.length");
    if (s.center_y - s.radius <= 0 || s.center_y + s.radius >= h || s.center_x - s.radius <= 0 || s.center_x + s.radius >= len)
      d.fail("dataset.ranges", cat("trajectory ", i, " draws a cylinder (centre ", s.center_x, ", ", s.center_y, ", radius ",
                                   s.radius, ") outside the ", len, " x ", h, " channel"));
  }
  if (comm.root()) std::filesystem::create_directories(parts);
  comm.barrier();

  // A finished dataset with the same trajectories is left alone.
  const std::string table = trajectory_table(d, splits);
  bool complete = std::filesystem::exists(dir + "/meta.json") && std::filesystem::exists(dir + "/trajectories.csv");
  for (const auto& sp : splits) complete = complete && std::filesystem::exists(dir + "/" + sp.name + ".h5");
  if (complete) {
    std::ifstream in(dir + "/trajectories.csv");
    std::stringstream text;
    text << in.rdbuf();
    complete = text.str() == table;
  }
  DatasetSummary sum;
  if (complete) {
    log->info("{} is complete, with these trajectories; nothing to do", dir);
    sum.reused = total;
    return sum;
  }
  // Trajectories still to do: no part file, or one made with other settings.
  std::vector<int64_t> todo;
  for (int64_t i = 0; i < total; ++i) {
    const std::string part = parts + "/" + cat("traj_", i) + ".h5";
    if (std::filesystem::exists(part) && io::DatasetReader(parts, cat("traj_", i)).deck_yaml() == fingerprint(d, draw_sample(d, i)))
      ++sum.reused;
    else
      todo.push_back(i);
  }
  const int64_t max_new = d.get_int("dataset.max_new");
  const int64_t now = max_new > 0 ? std::min<int64_t>(max_new, todo.size()) : static_cast<int64_t>(todo.size());
  comm.barrier();  // every rank has checked the parts before any is rewritten
  log->info("{} trajectories: {} done earlier, {} to generate now{}", total, sum.reused, now,
            now < static_cast<int64_t>(todo.size()) ? cat(" (dataset.max_new; ", todo.size() - now, " left for later runs)") : "");

  double seconds = 0;
  const int64_t mine = (now - comm.rank() + comm.size() - 1) / comm.size();
  io::Progress progress(log, "trajectories", mine, 10.0, comm.root() && io::Progress::is_terminal());
  for (int64_t k = comm.rank(); k < now; k += comm.size()) {
    const int64_t i = todo[k];
    const FlowSample s = draw_sample(d, i);
    const std::string part = cat("traj_", i);
    const auto t0 = std::chrono::steady_clock::now();
    int64_t nodes = 0;
    io::Trajectory traj = simulate(d, s, i, nodes);
    io::DatasetWriter w(parts, part, meta, Comm::self(), fingerprint(d, s));
    w.write(0, traj);
    w.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds += secs;
    ++sum.generated;
    progress.advance(1, cat("trajectory ", i, ": Re ", std::lround(reynolds(d, s)), ", ", nodes, " nodes, ", std::lround(secs), " s"));
  }
  progress.finish();
  comm.allreduce_sum(&sum.generated, 1);
  comm.allreduce_sum(&seconds, 1);
  sum.seconds_per_trajectory = sum.generated ? seconds / sum.generated : 0;
  if (now < static_cast<int64_t>(todo.size())) {
    log->info("stopped after {} new trajectories; {} remain: run the same command again to continue",
              now, todo.size() - now);
    return sum;
  }

  // Assemble the splits from the parts (rank 0), then drop the parts.
  if (comm.root()) {
    for (const auto& sp : splits) {
      io::DatasetWriter w(dir, sp.name, meta, Comm::self(), d.resolved_yaml());
      for (int64_t i = sp.begin; i < sp.end; ++i) w.write(i - sp.begin, io::DatasetReader(parts, cat("traj_", i)).read(0));
      w.finish();
      log->info("wrote {}/{}.h5 ({} trajectories)", dir, sp.name, sp.end - sp.begin);
    }
    io::write_text_atomic(dir + "/trajectories.csv", table);
    std::filesystem::remove_all(parts);
  }
  comm.barrier();
  return sum;
}

}  // namespace tessera::solvers
