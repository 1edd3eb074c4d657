#include "jobs/flow_dataset.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/idle_ranks.hpp"
#include "core/on_root.hpp"
#include "core/progress.hpp"
#include "io/dataset.hpp"
#include "jobs/flow_sample.hpp"
#include "mesh/gmsh_io.hpp"
#include "solvers/navier_stokes.hpp"

namespace tessera::jobs {

namespace {

std::string parts_dir(const DatasetOptions& o) { return o.dir + "/.parts"; }
std::string part_name(int64_t index) { return cat("traj_", index); }

// <dir>/trajectories.csv: the parameters of every trajectory and, in its first line, the seed and
// the common settings. Written last, it marks a finished dataset; equal text means the same
// dataset. Until 2026-12-06 the first line was the fingerprint of an empty sample (`center 0 0
// radius 0 inflow 0 ...`, no seed), which `legacy` gives, so that datasets made then are still
// recognised (already_complete).
std::string trajectory_table(const DatasetOptions& o, bool legacy = false) {
  const std::string common = fingerprint(o, FlowSample{});
  const std::string drawn = "center 0 0 radius 0 inflow 0 ";  // the empty sample's part of it
  std::ostringstream t;
  t.precision(10);
  if (legacy || common.rfind(drawn, 0) != 0)
    t << "# " << common << "\n";
  else
    t << "# dataset.seed " << o.seed
      << "; drawn per trajectory: the columns below; common to all: " << common.substr(drawn.size()) << "\n";
  t << "index,split,center_x,center_y,radius,inflow_speed,reynolds\n";
  for (const auto& sp : o.splits)
    for (int64_t i = sp.begin; i < sp.end; ++i) {
      const FlowSample s = draw_sample(o, i);
      t << i << "," << sp.name << "," << s.center_x << "," << s.center_y << "," << s.radius << "," << s.inflow_speed
        << "," << reynolds(o, s) << "\n";
    }
  return t.str();
}

mesh::Mesh sample_mesh(const DatasetOptions& o, const FlowSample& s) {
  mesh::CylinderChannel c = o.channel;
  c.cx = s.center_x;
  c.cy = s.center_y;
  c.radius = s.radius;
  mesh::Mesh m = mesh::build_cylinder_channel(c);
  mesh::assign_node_types(m, mesh::cylinder_node_types());
  return m;
}

// The mesh fields and room for `steps` velocity and pressure frames.
io::Trajectory empty_trajectory(const mesh::Mesh& m, int64_t steps) {
  const int64_t nv = m.num_nodes();
  io::Trajectory t;
  io::add_mesh_fields(t, m);
  auto& vel = t["velocity"];
  auto& pres = t["pressure"];
  vel.shape = {hsize_t(steps), hsize_t(nv), 2};
  pres.shape = {hsize_t(steps), hsize_t(nv), 1};
  vel.f32.reserve(steps * nv * 2);
  pres.f32.reserve(steps * nv);
  return t;
}

// Solver steps of one trajectory: the spin-up's (steps of 2 dt, not stored) and the stored ones.
int64_t spinup_steps(const DatasetOptions& o) { return static_cast<int64_t>(std::llround(o.spinup / (2 * o.dt))); }
int64_t solver_steps(const DatasetOptions& o) { return spinup_steps(o) + o.steps - 1; }

// Solves one trajectory on this rank alone: spin-up from rest, then `steps` stored states.
// `on_step` is called after each solver step with what the trajectory is doing (for progress).
io::Trajectory simulate(const DatasetOptions& o, const FlowSample& s, int64_t index,
                        const std::function<void(const std::string&)>& on_step) {
  const mesh::Mesh m = sample_mesh(o, s);
  solvers::FlowConfig flow = o.flow.flow;
  flow.inflow_speed = s.inflow_speed;
  solvers::NavierStokes ns(m, flow, Comm::self(), o.flow.linear);
  const double dt = o.dt, max_cfl = o.flow.max_cfl;
  // The spin-up (not stored) takes steps of 2 dt: it only has to wash out the impulsive start.
  const int64_t spin = spinup_steps(o);
  const std::string what =
      cat("trajectory ", index, ": Re ", std::lround(reynolds(o, s)), ", ", m.num_nodes(), " nodes, ");
  io::Trajectory t = empty_trajectory(m, o.steps);
  auto& vel = t["velocity"];
  auto& pres = t["pressure"];
  auto advance = [&](int64_t k, double h) {
    const double t_next = ns.time() + h;
    try {
      ns.step(h);
      const double cfl = ns.max_cfl(h);
      if (cfl > max_cfl)
        throw Error(
            cat("CFL number ", cfl, " exceeds time.max_cfl = ", max_cfl, "; reduce dataset.dt or the inflow range"));
    } catch (const Error& e) {
      throw Error(cat("trajectory ", index, ", step ", k, " (t = ", t_next, "): ", e.what()));
    }
  };
  auto record = [&] {
    for (double v : ns.vertex_velocity()) vel.f32.push_back(static_cast<float>(v));
    for (double p : ns.vertex_pressure()) pres.f32.push_back(static_cast<float>(p));
  };
  for (int64_t k = 1; k <= spin; ++k) {
    advance(k, 2 * dt);
    on_step(what + "spin-up");
  }
  record();
  for (int64_t k = spin + 1; k < spin + o.steps; ++k) {
    advance(k, dt);
    record();
    on_step(cat(what, "state ", k - spin + 1, "/", o.steps));
  }
  return t;
}

// A finished dataset with the same trajectories: its split files and an equal trajectories.csv.
bool already_complete(const DatasetOptions& o, const std::string& table) {
  const std::string& dir = o.dir;
  bool complete = std::filesystem::exists(dir + "/meta.json") && std::filesystem::exists(dir + "/trajectories.csv");
  for (const auto& sp : o.splits) complete = complete && std::filesystem::exists(dir + "/" + sp.name + ".h5");
  if (!complete) return false;
  std::ifstream in(dir + "/trajectories.csv");
  std::stringstream text;
  text << in.rdbuf();
  return text.str() == table || text.str() == trajectory_table(o, true);
}

// Where a finished dataset's trajectories.csv (`made`) first differs from this run's `table`, as
// "<what it says> there, <what this run would write> here": the setting on the first line
// (`steps 20` against `steps 21`), else the first trajectory row, else the number of rows.
std::string table_difference(const std::string& made, const std::string& table) {
  std::istringstream a(made), b(table);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool more_a = bool(std::getline(a, la)), more_b = bool(std::getline(b, lb));
    if (!more_a || !more_b)
      return more_a || more_b ? cat("it lists ", more_a ? "more" : "fewer", " trajectories than these settings make")
                              : "";
    if (la == lb) continue;
    if (line > 1) return cat("line ", line, ": '", la, "' there, '", lb, "' here");
    // The settings line, "key value ..." words: the words between the common start and the common
    // end, with the key before a changed value ("steps 20" there, "steps 21" here; a setting
    // added in between, such as the solver's, as what these settings add).
    std::istringstream ta(la), tb(lb);
    std::vector<std::string> wa{std::istream_iterator<std::string>(ta), {}},
        wb{std::istream_iterator<std::string>(tb), {}};
    size_t i = 0, j = 0;
    while (i < wa.size() && i < wb.size() && wa[i] == wb[i]) ++i;
    while (j < wa.size() - i && j < wb.size() - i && wa[wa.size() - 1 - j] == wb[wb.size() - 1 - j]) ++j;
    const auto middle = [&](const std::vector<std::string>& w) {
      std::string text;
      for (size_t k = i; k < w.size() - j; ++k) text += cat(k > i ? " " : "", w[k]);
      if (!text.empty() && text.back() == ';') text.pop_back();
      return text;
    };
    const std::string ma = middle(wa), mb = middle(wb);
    if (ma.empty() && mb.empty()) return cat("line 1: '", la, "' there, '", lb, "' here");  // spacing alone
    if (ma.empty()) return cat("these settings add '", mb, "'");
    if (mb.empty()) return cat("it has '", ma, "', these settings not");
    const std::string key = i > 0 && std::isalpha(static_cast<unsigned char>(wa[i - 1][0])) ? wa[i - 1] + " " : "";
    return cat(key, ma, " there, ", key, mb, " here");
  }
}

// Trajectories still to do: no part file, one made with other settings, or one that cannot be
// read (parts are committed atomically, so only damage from outside makes one unreadable: it is
// made again, and named in `damaged`). Counts the others in `reused`. Collective: each rank opens
// every size-th part (opening one took 11 ms: 10,000 parts were 2 minutes on every rank), and
// every rank gets the whole answer.
std::vector<int64_t> pending_trajectories(const DatasetOptions& o, const Comm& comm, int64_t& reused,
                                          std::vector<std::string>& damaged) {
  enum : int64_t { kMissing = 0, kReused = 1, kDamaged = 2 };  // per trajectory, summed over the ranks
  const std::string parts = parts_dir(o);
  std::vector<int64_t> state(o.total(), kMissing);
  run_on_every_rank(comm, [&] {  // an unexpected failure on one rank is every rank's, not a hang
    for (int64_t i = comm.rank(); i < o.total(); i += comm.size()) {
      const std::string part = parts + "/" + part_name(i) + ".h5";
      if (!std::filesystem::exists(part)) continue;
      try {
        if (io::DatasetReader(parts, part_name(i)).deck_yaml() == fingerprint(o, draw_sample(o, i))) state[i] = kReused;
      } catch (const Error& e) {
        state[i] = kDamaged;
      }
    }
  });
  comm.allreduce_sum(state.data(), static_cast<int64_t>(state.size()));
  std::vector<int64_t> todo;
  for (int64_t i = 0; i < o.total(); ++i) {
    if (state[i] == kReused) {
      ++reused;
      continue;
    }
    if (state[i] == kDamaged) damaged.push_back(parts + "/" + part_name(i) + ".h5");
    todo.push_back(i);
  }
  return todo;
}

// Solves todo[0, now) dealt out round-robin over the ranks, each committed to its part file.
void generate_parts(const DatasetOptions& o, const std::vector<int64_t>& todo, int64_t now, const Comm& comm,
                    const std::shared_ptr<spdlog::logger>& log, DatasetSummary& sum) {
  const io::DatasetMeta meta = io::DatasetMeta::cylinder_flow(o.steps, o.dt);
  double seconds = 0;
  const int64_t mine = (now - comm.rank() + comm.size() - 1) / comm.size();
  // Counted in solver steps, so that a line comes every 10 s also through a long trajectory and its
  // spin-up (counted in trajectories, a large mesh gave no line for minutes). Under mpirun each
  // rank counts its own share, and the label says whose (rank 0's on the console; every rank's in
  // its --log-dir file).
  const std::string label = comm.size() > 1 ? cat("solver steps of rank ", comm.rank(), "'s trajectories (", now,
                                                  " on ", comm.size(), " ranks)")
                                            : cat("solver steps of ", core::counted(now, "trajectory", "trajectories"));
  core::Progress progress(log, label, mine * solver_steps(o), 10.0, comm.root() && core::Progress::is_terminal());
  if (comm.size() > now && now > 0)
    log->warn("{}", core::idle_ranks_warning(comm.size(), now, "trajectory to solve", "trajectories to solve",
                                             "the dataset job deals whole trajectories to the ranks"));
  // A trajectory that fails on one rank (its solver diverged, its part could not be written) stops
  // the others at their next one; the parts committed so far are kept for the next run.
  IndependentWork work(comm);
  for (int64_t k = comm.rank(); k < now; k += comm.size()) {
    const int64_t i = todo[k];
    const FlowSample s = draw_sample(o, i);
    const auto t0 = std::chrono::steady_clock::now();
    const bool done = work.run([&] {
      io::Trajectory traj = simulate(o, s, i, [&](const std::string& what) { progress.advance(1, what); });
      io::DatasetWriter w(parts_dir(o), part_name(i), meta, Comm::self(), fingerprint(o, s));
      w.write(0, traj);
      w.finish();
    });
    if (!done) break;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds += secs;
    ++sum.generated;
  }
  work.finish();
  progress.finish();
  comm.allreduce_sum(&sum.generated, 1);
  comm.allreduce_sum(&seconds, 1);
  sum.seconds_per_trajectory = sum.generated ? seconds / sum.generated : 0;
}

// Assembles the splits from the parts (rank 0; its error is every rank's), marks the dataset
// finished, drops the parts.
void assemble_splits(const DatasetOptions& o, const std::string& table, const Comm& comm,
                     const std::shared_ptr<spdlog::logger>& log) {
  run_on_root(comm, [&] {
    const io::DatasetMeta meta = io::DatasetMeta::cylinder_flow(o.steps, o.dt);
    const std::string parts = parts_dir(o);
    // meta.json comes with the last split: a folder with meta.json holds every split (a job stopped
    // while writing them left meta.json and train.h5 alone, which tessera-train read as a dataset
    // without validation data). A replaced dataset's meta.json goes first, for the same reason.
    std::filesystem::remove(o.dir + "/meta.json");
    // A split of a replaced dataset that this one does not have (dataset.overwrite with, say,
    // dataset.valid = 0) would no longer match meta.json: removed before meta.json is written again.
    for (const char* name : {"train", "valid", "test"}) {
      const bool ours = std::any_of(o.splits.begin(), o.splits.end(), [&](const auto& sp) { return sp.name == name; });
      if (!ours && std::filesystem::remove(cat(o.dir, "/", name, ".h5")))
        log->info("removed {}/{}.h5 of the dataset this one replaces", o.dir, name);
    }
    for (const auto& sp : o.splits) {
      io::DatasetWriter w(o.dir, sp.name, meta, Comm::self(), o.deck_yaml);
      for (int64_t i = sp.begin; i < sp.end; ++i) w.write(i - sp.begin, io::DatasetReader(parts, part_name(i)).read(0));
      w.finish(&sp == &o.splits.back());
      log->info("wrote {}/{}.h5 ({})", o.dir, sp.name, core::counted(sp.end - sp.begin, "trajectory", "trajectories"));
    }
    core::write_text_atomic(o.dir + "/trajectories.csv", table);
    std::filesystem::remove_all(parts);
  });
}

}  // namespace

DatasetSummary generate_dataset(const DatasetOptions& o, const Comm& comm, const std::shared_ptr<spdlog::logger>& log) {
  const int64_t total = o.total();
  // A run that fails before its first trajectory is stored leaves no empty folders behind: the
  // parts folder, and the folders this run made for it (only empty folders are removed, deepest
  // first; on the success path each holds files by then, or was removed already).
  struct RemoveEmptyFolders {
    std::vector<std::filesystem::path> dirs;
    ~RemoveEmptyFolders() {
      std::error_code ec;
      for (const auto& d : dirs)
        if (std::filesystem::is_directory(d, ec) && std::filesystem::is_empty(d, ec)) std::filesystem::remove(d, ec);
    }
  } cleanup;
  run_on_root(comm, [&] {
    std::error_code ec;
    for (std::filesystem::path d = std::filesystem::absolute(parts_dir(o), ec).lexically_normal();
         d.has_relative_path() && !std::filesystem::exists(d, ec); d = d.parent_path())
      cleanup.dirs.push_back(d);
    std::filesystem::create_directories(parts_dir(o));
  });
  const std::string table = trajectory_table(o);
  DatasetSummary sum;
  if (already_complete(o, table)) {
    std::error_code kept;  // not empty: parts of somebody's other run, left alone
    if (comm.root()) std::filesystem::remove(parts_dir(o), kept);  // the empty folder made above
    log->info("{} is complete, with these trajectories; nothing to do", o.dir);
    sum.reused = total;
    return sum;
  }
  // A finished dataset made with other settings is somebody's result: replace it only if asked.
  if (std::filesystem::exists(o.dir + "/trajectories.csv") && !o.overwrite) {
    std::ifstream in(o.dir + "/trajectories.csv");
    std::stringstream made;
    made << in.rdbuf();
    // Against the table in the layout the file has (datasets made before 2026-12-06 have the
    // legacy first line, which already_complete accepts too).
    const bool old_layout = made.str().rfind("# center ", 0) == 0;  // "# " and the empty sample's fingerprint
    const std::string difference = table_difference(made.str(), old_layout ? trajectory_table(o, true) : table);
    if (difference.empty())  // these settings' table, without its meta.json or a split's .h5
      throw Error(cat(o.dir, " holds the trajectories.csv of these settings, but not its meta.json and every split's ",
                      ".h5 (removed since it was made?); replace it with --set dataset.overwrite=true, or choose ",
                      "another dataset.dir"),
                  "dataset.dir");
    throw Error(cat(o.dir, " holds a finished dataset made with other settings (its trajectories.csv: ", difference,
                    "); choose another dataset.dir, or replace it with --set dataset.overwrite=true"),
                "dataset.dir");
  }
  std::vector<std::string> damaged;
  const std::vector<int64_t> todo = pending_trajectories(o, comm, sum.reused, damaged);
  for (const auto& part : damaged) log->warn("{} cannot be read (damaged?); its trajectory is made again", part);
  const int64_t left = static_cast<int64_t>(todo.size());
  const int64_t now = o.max_new > 0 ? std::min<int64_t>(o.max_new, left) : left;
  comm.barrier();  // every rank has checked the parts before any is rewritten
  log->info("{}: {} done earlier, {} to generate now{}", core::counted(total, "trajectory", "trajectories"), sum.reused,
            now, now < left ? cat(" (dataset.max_new; ", left - now, " left for later runs)") : "");
  generate_parts(o, todo, now, comm, log, sum);
  if (now < left) {
    log->info("stopped after {} new trajectories; {} remain: run the same command again to continue", now, left - now);
    return sum;
  }
  assemble_splits(o, table, comm, log);
  return sum;
}

}  // namespace tessera::jobs
