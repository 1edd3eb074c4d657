#include "train/rollout_output.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/malloc_policy.hpp"
#include "core/on_root.hpp"
#include "io/line_plot.hpp"
#include "io/mesh_image.hpp"
#include "io/png.hpp"
#include "io/series_files.hpp"
#include "io/vtk.hpp"
#include "io/xdmf.hpp"
#include "tessera/config.hpp"

namespace tessera::train {
namespace {

io::Field to_field(const std::string& name, const at::Tensor& t) {
  at::Tensor c = t.to(at::kDouble).contiguous();
  io::Field f{name, t.dim() == 2 ? int(t.size(1)) : 1, false, {}};
  f.data.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  return f;
}

// `v` in `digits` significant digits. A state's time in a title takes 6 (a rollout going on from
// t = 1234.55 read "t = 1.23e+03" in every panel), with the rounding noise of k * dt left out.
std::string short_number(double v, int digits = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::vector<double> speed(const at::Tensor& v) {
  at::Tensor s = v.to(at::kDouble).norm(2, 1).contiguous();
  return {s.data_ptr<double>(), s.data_ptr<double>() + s.numel()};
}

// <base>.png: rows of states (first, middle, last: `shown`); columns predicted |u|, the data's |u|,
// |error| (with truth), sampled on an image of the mesh. Colour ranges are shared down each column.
void write_rollout_png(const std::string& path, const TrajectoryData& t,
                       const std::vector<std::pair<int64_t, at::Tensor>>& shown, double t0, double dt,
                       bool with_truth) {
  const io::MeshImageSampler sampler(t.mesh, 420);
  const size_t columns = with_truth ? 3 : 1;
  std::vector<io::ImagePanel> panels;
  double top = 0, top_err = 0;  // colour ranges: speeds, errors
  auto add = [&](const at::Tensor& velocity, const std::string& what, int64_t k, double& range) {
    io::ImagePanel p = sampler.sample(speed(velocity));
    for (double v : p.values)
      if (std::isfinite(v)) range = std::max(range, v);
    p.title = cat(what, ", t = ", short_number(t0 + k * dt, 6));
    panels.push_back(std::move(p));
  };
  for (const auto& [k, predicted] : shown) {
    add(predicted, "predicted |u|", k, top);
    if (!with_truth) continue;
    add(t.velocity[k], "data |u|", k, top);
    add(predicted - t.velocity[k], "|error|", k, top_err);
  }
  // A colour bar under each panel, labelled with its range (the range was only in the title).
  for (size_t i = 0; i < panels.size(); ++i) {
    panels[i].sequential = true;
    panels[i].lo = 0;
    panels[i].hi = std::max(i % columns == 2 ? top_err : top, 1e-12);
    panels[i].scale = true;
  }
  io::write_panels_png(path, panels, static_cast<int64_t>(columns));
}

#if TESSERA_HAVE_VTK
// <base>_wake_probe.png: the probe's signal in the data and in the prediction, where a shedding
// frequency that is a few percent off shows as a growing phase lag long before it is read off the
// RMSE, beside the RMSE per step against persistence.
// true_signal, predicted_signal: [states] doubles.
void write_wake_png(const std::string& path, const at::Tensor& true_signal, const at::Tensor& predicted_signal,
                    const Rollout& r, const WakeProbe& p, double dt) {
  // "data": the trajectory may be imported, not tessera-cfd's (it was labelled "solver").
  io::PlotSeries truth{"data", {}, {}}, model{"model", {}, {}};
  const double *v = true_signal.data_ptr<double>(), *m = predicted_signal.data_ptr<double>();
  for (int64_t k = 0; k < true_signal.size(0); ++k) {
    truth.x.push_back(k * dt), truth.y.push_back(v[k]);
    model.x.push_back(k * dt), model.y.push_back(m[k]);
  }
  io::PlotSeries err{"model", {}, {}}, pers{"persistence", {}, {}, false, true};  // dashed: a baseline
  for (size_t k = 0; k < r.rmse.size(); ++k) {
    err.x.push_back((k + 1) * dt), err.y.push_back(r.rmse[k]);
    pers.x.push_back((k + 1) * dt), pers.y.push_back(r.persistence_rmse[k]);
  }
  const std::string where = cat("(", short_number(p.x), ", ", short_number(p.y), ")");
  io::write_line_plots_png(path,
                           {{cat("cross-stream velocity at the wake probe ", where),
                             "time",
                             "v",
                             false,
                             {std::move(truth), std::move(model)}},
                            {"RMSE per step", "time", "RMSE", true, {std::move(err), std::move(pers)}}},
                           640, 340);
}
#endif

}  // namespace

io::Trajectory initial_condition_trajectory(const mesh::Mesh& m, double inflow_speed, bool fill_interior) {
  const hsize_t n = m.num_nodes();
  // The parabola across the inflow's own span, as the CFD solver's: over the whole mesh's height it
  // was wrong for an inlet on part of the left end (a backward-facing step), and a mesh without an
  // inflow, or with it at the right end, ran without a word (a review, 2026-12-08).
  const mesh::Box in = mesh::channel_inflow(m);
  const double y0 = in.y0, h = in.y1 - in.y0;
  io::Trajectory t;
  io::add_mesh_fields(t, m);
  auto& vel = t["velocity"];
  vel.shape = {1, n, 2};
  vel.f32.assign(2 * n, 0.0f);
  for (hsize_t i = 0; i < n; ++i) {
    const int32_t type = m.node_type[i];
    if (type == mesh::kInflow || (fill_interior && (type == mesh::kNormal || type == mesh::kOutflow))) {
      const double y = m.coords[2 * i + 1] - y0;  // interior nodes beside the inlet's span: at rest
      vel.f32[2 * i] = y > 0 && y < h ? static_cast<float>(4 * inflow_speed * y * (h - y) / (h * h)) : 0.0f;
    }
  }
  return t;
}

TrajectoryData held_for(TrajectoryData t, int64_t steps) {
  t.velocity = t.velocity.narrow(0, 0, 1).expand({steps + 1, -1, -1});
  return t;
}

RolloutSummary summarize(const Rollout& r, const OneStepError& one) {
  const int64_t all = static_cast<int64_t>(r.rmse.size());
  return {one.model_rmse,   one.persistence_rmse,  r.rmse_over(1),         r.rmse_over(50),
          r.rmse_over(all), r.persistence_over(1), r.persistence_over(50), r.persistence_over(all)};
}

// Every file write_rollout writes for `base`: a rerun into the same output.dir must not leave
// files of the earlier run that this one does not rewrite (the steps past this run's last, a .pvd,
// a wake probe series this run has no probe for, metrics a run without ground truth does not
// write), where they would pass for its own.
static void remove_earlier_outputs(const std::string& base) {
  io::remove_series_files(base);
  for (const char* rest :
       {".png", "_metrics.csv", "_summary.csv", "_wake_probe.csv", "_wake_probe_series.csv", "_wake_probe.png"})
    std::filesystem::remove(base + rest);
}

void remove_earlier_rollouts(const std::string& output_base) {
  remove_earlier_outputs(output_base);
  const std::string table = output_base + "_trajectories.csv";
  std::ifstream in(table);
  if (!in) return;
  std::string row;
  std::getline(in, row);  // the header
  while (std::getline(in, row)) {
    const std::string id = row.substr(0, row.find(','));
    // Only the trajectory numbers of the table's first column ("mean" ends it).
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) continue;
    remove_earlier_outputs(cat(output_base, "_", id));
  }
  in.close();
  std::filesystem::remove(table);
}

std::string divergence_warning(const Rollout& r, const std::string& what) {
  const int64_t s = r.non_finite_from;
  return s < 0 ? ""
               : cat(what, ": the prediction is not finite (NaN or Inf) from step ", s,
                     " on: the model diverged, and its errors from there on are not finite");
}

struct RolloutWriter::Series {
#if TESSERA_HAVE_HDF5
  std::unique_ptr<io::XdmfSeries> xdmf;
#endif
#if TESSERA_HAVE_VTK
  std::unique_ptr<io::PvdCollection> pvd;
#endif
  io::Field node_type;
};

std::string RolloutWriter::staging_dir(const std::string& base) {
  const std::filesystem::path b(base);
  return (b.parent_path() / (b.filename().string() + ".partial")).string();
}

void RolloutWriter::remove_staging(const std::string& base) {
  namespace fs = std::filesystem;
  const fs::path dir = staging_dir(base);
  const std::string name = fs::path(base).filename().string();
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return;
  const std::string where = cat(dir.string(), " is where tessera-rollout writes a series while it computes");
  if (!fs::is_directory(fs::symlink_status(dir, ec)))
    throw Error(cat(where, ", and a file of that name is in the way: move it, or choose another output.name"),
                "output.name");
  // Only what a writer of this name left (a run stopped while it computed): anything else is
  // somebody's, and stays.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string f = entry.path().filename().string();
    if (!entry.is_regular_file(ec) || f.rfind(name, 0) != 0)
      throw Error(cat(where, ", and it holds ", f, ", which no rollout named '", name,
                      "' wrote there: move it, or choose another output.name"),
                  "output.name");
  }
  fs::remove_all(dir);
}

RolloutWriter::RolloutWriter(std::string base, const TrajectoryData& t, int64_t steps, double dt, bool vtu,
                             std::string deck_yaml, const Comm& comm, bool with_truth, bool staged, int64_t every)
    : base_(std::move(base)),
      t_(t),
      states_(steps + 1),
      every_(std::max<int64_t>(every, 1)),
      dt_(dt),
      vtu_(vtu),
      with_truth_(with_truth),
      staged_(staged),
      deck_yaml_(std::move(deck_yaml)),
      comm_(comm),
      series_(std::make_unique<Series>()) {
  out_ =
      staged_ ? (std::filesystem::path(staging_dir(base_)) / std::filesystem::path(base_).filename()).string() : base_;
  run_on_root(comm_, [&] {
    if (staged_) {
      remove_staging(base_);  // an earlier run's, stopped while it computed
      std::filesystem::create_directories(staging_dir(base_));
    } else {
      remove_earlier_outputs(base_);
    }
  });
  series_->node_type = to_field("node_type", t.node_type);
  series_->node_type.integer = true;
#if TESSERA_HAVE_HDF5
  try {
    series_->xdmf =
        std::make_unique<io::XdmfSeries>(out_, t.mesh, comm_, std::vector<io::Field>{series_->node_type}, deck_yaml_);
  } catch (...) {
    std::error_code ignored;  // a failed run leaves no empty folder
    if (staged_ && comm_.root()) std::filesystem::remove(staging_dir(base_), ignored);
    throw;
  }
#endif
#if TESSERA_HAVE_VTK
  if (vtu_ && comm_.root()) series_->pvd = std::make_unique<io::PvdCollection>(out_ + ".pvd");
#endif
  if (with_truth_ && comm_.root()) probe_node_ = wake_probe_node(t.velocity, t.node_type, states_);
}

RolloutWriter::~RolloutWriter() = default;

void RolloutWriter::write_state(int64_t k, const at::Tensor& pred) {
  if (k != written_) throw Error(cat("RolloutWriter: state ", k, " written after ", written_, " states"));
  ++written_;
  if (k % every_ == 0 || k == states_ - 1) write_series_state(k, pred);
  if (k % 256 == 255) core::return_free_memory();  // the kept and the freed blocks interleave
  if (!comm_.root()) return;
  // The picture's states: the first, the middle and the last of states_ (a shorter run's last).
  if (k == 0 || k == states_ / 2 || k == states_ - 1) shown_.emplace_back(k, pred.clone());
  if (probe_node_ >= 0) probe_predicted_.push_back(pred[probe_node_][1].item<double>());
}

void RolloutWriter::write_series_state(int64_t k, const at::Tensor& pred) {
  ++in_series_;
  std::vector<io::Field> fields{to_field("velocity_pred", pred)};
  if (with_truth_) {
    const at::Tensor truth = t_.velocity[k];
    fields.push_back(to_field("velocity_true", truth));
    fields.push_back(to_field("error", (pred - truth).norm(2, 1)));
  }
#if TESSERA_HAVE_HDF5
  series_->xdmf->write_step(t0_ + k * dt_, fields);
#endif
#if TESSERA_HAVE_VTK
  // Rank 0 writes the VTU series; its error is every rank's (the others would wait for it in
  // the next step's collectives).
  if (vtu_)
    run_on_root(comm_, [&] {
      const std::string name = cat(std::filesystem::path(out_).filename().string(), "_", k, ".vtu");
      fields.push_back(series_->node_type);
      io::write_vtu(std::filesystem::path(out_).parent_path().string() + "/" + name, t_.mesh, fields, deck_yaml_);
      series_->pvd->add(t0_ + k * dt_, name);
    });
#endif
}

std::vector<std::string> RolloutWriter::finish(const Rollout& r, const RolloutSummary& s,
                                               const std::function<void()>& before_move) {
  // Every rank has written as many (the states come from one collective rollout): the same answer.
  if (written_ != states_)
    throw Error(cat("RolloutWriter: ", written_, " states written of the ", states_, " announced"));
#if TESSERA_HAVE_HDF5
  // The indexes list every step (they are rewritten at a pace while the steps are written).
  series_->xdmf->finish();
  series_->xdmf.reset();
#endif
#if TESSERA_HAVE_VTK
  if (vtu_) run_on_root(comm_, [&] { series_->pvd->finish(); });
  series_->pvd.reset();
#endif
  run_on_root(comm_, [&] {
    if (before_move) before_move();
    if (!staged_) return;
    // Renames within one file system: the .xmf and .pvd name their files relative to themselves.
    // The names first: renaming entries while a directory is read may skip some (NFS, FUSE).
    const std::filesystem::path dir = std::filesystem::path(base_).parent_path();
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(staging_dir(base_))) files.push_back(entry.path());
    for (const auto& f : files) std::filesystem::rename(f, dir / f.filename());
    std::filesystem::remove(staging_dir(base_));
  });
  std::vector<std::string> written;
#if TESSERA_HAVE_HDF5
  written.push_back(base_ + ".xmf");
#endif
#if TESSERA_HAVE_VTK
  if (vtu_) written.push_back(base_ + ".pvd");
#endif
  const std::string& base = base_;
  const double dt = dt_;
#if TESSERA_HAVE_VTK
  if (comm_.root() && t_.mesh.dim == 2) {
    write_rollout_png(base + ".png", t_, shown_, t0_, dt, with_truth_);
    written.push_back(base + ".png");
  }
#endif
  if (!comm_.root() || !with_truth_) return written;
  std::ostringstream m;
  m.precision(8);
  m << "step,time,rmse,persistence_rmse\n";
  for (size_t k = 0; k < r.rmse.size(); ++k)
    m << k + 1 << "," << (k + 1) * dt << "," << r.rmse[k] << "," << r.persistence_rmse[k] << "\n";
  core::write_text_atomic(base + "_metrics.csv", m.str());
  std::ostringstream sum;
  sum.precision(8);
  sum << "metric,model,persistence\n"
      << "one_step_rmse," << s.one_step << "," << s.one_step_persistence << "\n"
      << "rollout_rmse_1," << s.rmse_1 << "," << s.persistence_1 << "\n";
  // Rows are named by the steps actually run: a 50-step row only when 50 steps were run.
  if (r.rmse.size() >= 50) sum << "rollout_rmse_50," << s.rmse_50 << "," << s.persistence_50 << "\n";
  sum << "rollout_rmse_all," << s.rmse_all << "," << s.persistence_all << "\n"
      << "rollout_steps," << r.rmse.size() << "," << r.rmse.size() << "\n";
  core::write_text_atomic(base + "_summary.csv", sum.str());
  // The probe's signals, in the data and in the prediction: [states] doubles.
  at::Tensor truth_signal, predicted_signal;
  if (probe_node_ >= 0 && written_ >= 4) {
    truth_signal = cross_stream_signal(t_.velocity, probe_node_, written_);
    predicted_signal = at::tensor(probe_predicted_, at::kDouble);
    probe_ = wake_probe_at(probe_node_, t_.pos, truth_signal, predicted_signal, dt);
  }
  const WakeProbe& probe = probe_;
  std::ostringstream wake;
  wake.precision(8);
  wake << "node,x,y,frequency_true,frequency_pred,amplitude_true,amplitude_pred\n"
       << probe.node << "," << probe.x << "," << probe.y << "," << probe.frequency_true << "," << probe.frequency_pred
       << "," << probe.amplitude_true << "," << probe.amplitude_pred << "\n";
  core::write_text_atomic(base + "_wake_probe.csv", wake.str());
  written.push_back(base + "_metrics.csv");
  written.push_back(base + "_summary.csv");
  written.push_back(base + "_wake_probe.csv");
  if (probe.node < 0) return written;
  const double* v = truth_signal.data_ptr<double>();
  std::ostringstream signal;
  signal.precision(8);
  signal << "step,time,v_true,v_pred\n";
  for (int64_t k = 0; k < written_; ++k)
    signal << k << "," << k * dt << "," << v[k] << "," << probe_predicted_[k] << "\n";
  core::write_text_atomic(base + "_wake_probe_series.csv", signal.str());
  written.push_back(base + "_wake_probe_series.csv");
#if TESSERA_HAVE_VTK
  write_wake_png(base + "_wake_probe.png", truth_signal, predicted_signal, r, probe, dt);
  written.push_back(base + "_wake_probe.png");
#endif
  return written;
}

std::vector<std::string> write_rollout(const std::string& base, const TrajectoryData& t, const Rollout& r,
                                       const RolloutSummary& s, double dt, bool vtu, const std::string& deck_yaml,
                                       const Comm& comm, bool with_truth, int64_t every, WakeProbe* probe) {
  const int64_t states = r.predicted.size(0);
  RolloutWriter writer(base, t, states - 1, dt, vtu, deck_yaml, comm, with_truth, false, every);
  for (int64_t k = 0; k < states; ++k) writer.write_state(k, r.predicted[k]);
  std::vector<std::string> written = writer.finish(r, s);
  if (probe) *probe = writer.wake_probe();
  return written;
}

}  // namespace tessera::train
