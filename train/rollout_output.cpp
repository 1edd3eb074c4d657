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

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::vector<double> speed(const at::Tensor& v) {
  at::Tensor s = v.to(at::kDouble).norm(2, 1).contiguous();
  return {s.data_ptr<double>(), s.data_ptr<double>() + s.numel()};
}

// <base>.png: rows of steps (first, middle, last); columns predicted |u|, the data's |u|, |error|
// (with truth), sampled on an image of the mesh. Colour ranges are shared down each column.
void write_rollout_png(const std::string& path, const TrajectoryData& t, const Rollout& r, double dt, bool with_truth) {
  const int64_t steps = r.predicted.size(0);
  std::vector<int64_t> shown = {0, steps / 2, steps - 1};
  shown.erase(std::unique(shown.begin(), shown.end()), shown.end());
  const io::MeshImageSampler sampler(t.mesh, 420);
  const size_t columns = with_truth ? 3 : 1;
  std::vector<io::ImagePanel> panels;
  double top = 0, top_err = 0;  // colour ranges: speeds, errors
  auto add = [&](const at::Tensor& velocity, const std::string& what, int64_t k, double& range) {
    io::ImagePanel p = sampler.sample(speed(velocity));
    for (double v : p.values)
      if (std::isfinite(v)) range = std::max(range, v);
    p.title = cat(what, ", t = ", short_number(k * dt));
    panels.push_back(std::move(p));
  };
  for (int64_t k : shown) {
    add(r.predicted[k], "predicted |u|", k, top);
    if (!with_truth) continue;
    add(t.velocity[k], "data |u|", k, top);
    add(r.predicted[k] - t.velocity[k], "|error|", k, top_err);
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

// The wake probe's cross-stream velocity at every step, in the data and in the prediction:
// [steps, 2] doubles, or undefined without a probe.
at::Tensor wake_series(const TrajectoryData& t, const Rollout& r, const WakeProbe& p) {
  if (p.node < 0) return {};
  const int64_t steps = std::min(t.velocity.size(0), r.predicted.size(0));
  return at::stack({cross_stream_signal(t.velocity, p.node, steps), cross_stream_signal(r.predicted, p.node, steps)},
                   1);
}

#if TESSERA_HAVE_VTK
// <base>_wake_probe.png: the probe's signal in the data and in the prediction, where a shedding
// frequency that is a few percent off shows as a growing phase lag long before it is read off the
// RMSE, beside the RMSE per step against persistence.
void write_wake_png(const std::string& path, const at::Tensor& series, const Rollout& r, const WakeProbe& p,
                    double dt) {
  // "data": the trajectory may be imported, not tessera-cfd's (it was labelled "solver").
  io::PlotSeries truth{"data", {}, {}}, model{"model", {}, {}};
  const double* v = series.data_ptr<double>();
  for (int64_t k = 0; k < series.size(0); ++k) {
    truth.x.push_back(k * dt), truth.y.push_back(v[2 * k]);
    model.x.push_back(k * dt), model.y.push_back(v[2 * k + 1]);
  }
  io::PlotSeries err{"model", {}, {}}, pers{"persistence", {}, {}};
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

io::Trajectory initial_condition_trajectory(const mesh::Mesh& m, int64_t steps, double inflow_speed,
                                            bool fill_interior) {
  const hsize_t n = m.num_nodes();
  double y0 = m.coords[1], y1 = m.coords[1];
  for (hsize_t i = 0; i < n; ++i) y0 = std::min(y0, m.coords[2 * i + 1]), y1 = std::max(y1, m.coords[2 * i + 1]);
  const double h = y1 - y0;
  io::Trajectory t;
  io::add_mesh_fields(t, m);
  std::vector<float> v0(2 * n, 0.0f);
  for (hsize_t i = 0; i < n; ++i) {
    const int32_t type = m.node_type[i];
    if (type == mesh::kInflow || (fill_interior && (type == mesh::kNormal || type == mesh::kOutflow))) {
      const double y = m.coords[2 * i + 1] - y0;
      v0[2 * i] = static_cast<float>(4 * inflow_speed * y * (h - y) / (h * h));
    }
  }
  auto& vel = t["velocity"];
  vel.shape = {hsize_t(steps + 1), n, 2};
  for (int64_t s = 0; s <= steps; ++s) vel.f32.insert(vel.f32.end(), v0.begin(), v0.end());
  return t;
}

RolloutSummary summarize(const Rollout& r, const OneStepError& one, const TrajectoryData* truth, double dt) {
  const int64_t all = static_cast<int64_t>(r.rmse.size());
  return {one.model_rmse,
          one.persistence_rmse,
          r.rmse_over(1),
          r.rmse_over(50),
          r.rmse_over(all),
          r.persistence_over(1),
          r.persistence_over(50),
          r.persistence_over(all),
          truth ? wake_probe(truth->velocity, r.predicted, truth->node_type, truth->pos, dt) : WakeProbe{}};
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
  const int64_t s = r.first_non_finite_step();
  return s < 0 ? ""
               : cat(what, ": the prediction is not finite (NaN or Inf) from step ", s,
                     " on: the model diverged, and its errors from there on are not finite");
}

std::vector<std::string> write_rollout(const std::string& base, const TrajectoryData& t, const Rollout& r,
                                       const RolloutSummary& s, double dt, bool vtu, const std::string& deck_yaml,
                                       const Comm& comm, bool with_truth) {
  run_on_root(comm, [&] { remove_earlier_outputs(base); });
  std::vector<std::string> written;
  const int64_t steps = r.predicted.size(0);
  io::Field node_type = to_field("node_type", t.node_type);
  node_type.integer = true;
#if TESSERA_HAVE_HDF5
  io::XdmfSeries series(base, t.mesh, comm, {node_type}, deck_yaml);
  written.push_back(base + ".xmf");
#endif
#if TESSERA_HAVE_VTK
  std::unique_ptr<io::PvdCollection> pvd;
  if (vtu && comm.root()) {
    pvd = std::make_unique<io::PvdCollection>(base + ".pvd");
    written.push_back(pvd->path());
  }
#endif
  for (int64_t k = 0; k < steps; ++k) {
    at::Tensor pred = r.predicted[k], truth = t.velocity[k];
    std::vector<io::Field> fields{to_field("velocity_pred", pred)};
    if (with_truth) {
      fields.push_back(to_field("velocity_true", truth));
      fields.push_back(to_field("error", (pred - truth).norm(2, 1)));
    }
#if TESSERA_HAVE_HDF5
    series.write_step(k * dt, fields);
#endif
#if TESSERA_HAVE_VTK
    // Rank 0 writes the VTU series; its error is every rank's (the others would wait for it in
    // the next step's collectives).
    if (vtu)
      run_on_root(comm, [&] {
        const std::string name = cat(std::filesystem::path(base).filename().string(), "_", k, ".vtu");
        fields.push_back(node_type);
        io::write_vtu(std::filesystem::path(base).parent_path().string() + "/" + name, t.mesh, fields, deck_yaml);
        pvd->add(k * dt, name);
      });
#endif
  }
  // The indexes list every step (they are rewritten at a pace while the steps are written).
#if TESSERA_HAVE_HDF5
  series.finish();
#endif
#if TESSERA_HAVE_VTK
  if (vtu) run_on_root(comm, [&] { pvd->finish(); });
#endif
#if TESSERA_HAVE_VTK
  if (comm.root() && t.mesh.dim == 2) {
    write_rollout_png(base + ".png", t, r, dt, with_truth);
    written.push_back(base + ".png");
  }
#endif
  if (!comm.root() || !with_truth) return written;
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
  const WakeProbe& probe = s.wake;
  std::ostringstream wake;
  wake.precision(8);
  wake << "node,x,y,frequency_true,frequency_pred,amplitude_true,amplitude_pred\n"
       << probe.node << "," << probe.x << "," << probe.y << "," << probe.frequency_true << "," << probe.frequency_pred
       << "," << probe.amplitude_true << "," << probe.amplitude_pred << "\n";
  core::write_text_atomic(base + "_wake_probe.csv", wake.str());
  written.push_back(base + "_metrics.csv");
  written.push_back(base + "_summary.csv");
  written.push_back(base + "_wake_probe.csv");
  const at::Tensor probe_signal = wake_series(t, r, probe);
  if (!probe_signal.defined()) return written;
  std::ostringstream signal;
  signal.precision(8);
  signal << "step,time,v_true,v_pred\n";
  const double* v = probe_signal.data_ptr<double>();
  for (int64_t k = 0; k < probe_signal.size(0); ++k)
    signal << k << "," << k * dt << "," << v[2 * k] << "," << v[2 * k + 1] << "\n";
  core::write_text_atomic(base + "_wake_probe_series.csv", signal.str());
  written.push_back(base + "_wake_probe_series.csv");
#if TESSERA_HAVE_VTK
  write_wake_png(base + "_wake_probe.png", probe_signal, r, probe, dt);
  written.push_back(base + "_wake_probe.png");
#endif
  return written;
}

}  // namespace tessera::train
