#include "jobs/case_output.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/on_root.hpp"
#include "io/line_plot.hpp"
#include "io/series_files.hpp"
#include "jobs/cfd_case.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_HDF5
#include "io/xdmf.hpp"
#endif
#if TESSERA_HAVE_VTK
#include "io/vtk.hpp"
#endif

namespace tessera::jobs {

CaseOutput::CaseOutput(const OutputOptions& o, const mesh::Mesh& m, const Comm& comm, const FieldSteps& earlier)
    : o_(o), m_(m), comm_(comm), base_(o.base()) {
  // An earlier run's steps, .xmf, .pvd, force plot (which a steady run does not draw) or summary
  // would pass for this one's. Its <name>_restart.h5 is kept until this run writes its own: it is
  // what a re-run of a stopped job (a requeued batch job) would otherwise lose before its first
  // restart step, and it names its own time and deck. The folder itself is made by the first file
  // written, so that a case failing before its first output leaves none behind.
  run_on_root(comm, [&] {
    io::remove_series_files(base_);
    std::error_code ec;
    for (const char* file : {"_forces.png", "_summary.csv"})
      if (std::filesystem::remove(base_ + file, ec); ec)
        throw Error(cat(base_, file, ": cannot remove an earlier run's ", file + 1, ": ", ec.message()));
  });
  for (int32_t t : m.node_type) node_type_.data.push_back(t);
    // case_options rejects output.xdmf / output.vtu in builds without HDF5 / VTK.
#if TESSERA_HAVE_VTK
  if (o.vtu && comm.root()) pvd_ = std::make_unique<io::PvdCollection>(base_ + ".pvd");
#endif
  table_ << forces_header(o.probes.size()) << "\n";
  table_.precision(10);
  continue_series(earlier);
}

void CaseOutput::continue_series(const FieldSteps& earlier) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(base_).parent_path();
  for (const std::string& segment : earlier.segments) {
    std::error_code ec;
    const fs::path relative = fs::relative(segment, folder.empty() ? fs::path(".") : folder, ec);
    field_steps_.segments.push_back(ec || relative.empty() ? fs::absolute(segment).string() : relative.string());
  }
  field_steps_.steps = earlier.steps;
  own_segment_ = static_cast<int32_t>(field_steps_.segments.size());
  field_steps_.segments.push_back(fs::path(base_).filename().string());
  if (!comm_.root() || earlier.steps.empty() || !(o_.xdmf || o_.vtu)) return;
  // The series refer to the earlier runs' files where they are (copying them would double a long
  // run's disk use); files moved or removed since are left out, since readers stop at a missing one.
  // So are .h5 files whose path holds a colon: XDMF readers split "<file>:<dataset>" at the first.
  int64_t h5_missing = 0, vtu_missing = 0, h5_colon = 0;
  for (const FieldSteps::Step& st : earlier.steps) {
    const std::string segment = field_steps_.segments[size_t(st.segment)];
    char index[32];
    std::snprintf(index, sizeof index, "_%06lld.h5", static_cast<long long>(st.index));
    std::error_code ec;
    if (o_.xdmf && segment.find(':') != std::string::npos)
      ++h5_colon;
    else if (o_.xdmf && fs::exists(folder / (segment + index), ec))
      earlier_h5_.emplace_back(st.time, segment + index);
    else
      h5_missing += o_.xdmf;
#if TESSERA_HAVE_VTK
    const std::string vtu = cat(segment, "_", st.index, ".vtu");
    if (o_.vtu && fs::exists(folder / vtu, ec))
      pvd_->add(st.time, vtu);
    else
      vtu_missing += o_.vtu;
#endif
  }
  // Where they are, as the user would type it (relative to the working directory), once each.
  std::vector<std::string> folders;
  for (const std::string& segment : earlier.segments) {
    std::error_code ec;
    const fs::path parent = fs::path(segment).parent_path();
    fs::path shown = fs::relative(parent, fs::current_path(ec), ec);
    if (ec || shown.empty()) shown = parent;
    if (std::find(folders.begin(), folders.end(), shown.string()) == folders.end()) folders.push_back(shown.string());
  }
  std::string where;
  for (const std::string& f : folders) where += cat(where.empty() ? "" : ", ", f);
  earlier_note_ = cat("the field series start with the ", earlier.steps.size(),
                      " outputs before the restart (t = ", earlier.steps.front().time, " to ",
                      earlier.steps.back().time, ") in ", where, ", referred to where they are");
  if (h5_missing + vtu_missing > 0)
    earlier_note_ += cat("; not found and left out (moved, removed, or not written in that format): ",
                         o_.xdmf ? cat(h5_missing, " .h5") : std::string(), o_.xdmf && o_.vtu ? ", " : "",
                         o_.vtu ? cat(vtu_missing, " .vtu") : std::string());
  if (h5_colon > 0)
    earlier_note_ += cat("; ", h5_colon,
                         " .h5 left out of the .xmf: their folder's name holds a colon, which XDMF readers take for "
                         "the end of the file name");
}

CaseOutput::~CaseOutput() = default;

void CaseOutput::fields(const solvers::NavierStokes& ns) {
  std::vector<io::Field> f{{"velocity", 2, false, ns.vertex_velocity()},
                           {"pressure", 1, false, ns.vertex_pressure()},
                           {"vorticity", 1, false, ns.vertex_vorticity()}};
#if TESSERA_HAVE_HDF5
  // The series (its _mesh.h5 first) starts with its first step: a steady solve that fails leaves
  // no mesh file without a .xmf. Collective, as fields() is.
  if (o_.xdmf && !xdmf_) {
    xdmf_ = std::make_unique<io::XdmfSeries>(base_, m_, comm_, std::vector{node_type_}, o_.deck_yaml);
    for (const auto& [t, h5] : earlier_h5_) xdmf_->add_earlier_step(t, h5, f);
  }
  if (xdmf_) xdmf_->write_step(ns.time(), f);
#endif
#if TESSERA_HAVE_VTK
  // Rank 0 writes the VTU series; its error is every rank's (the others would wait for it in the
  // next step's collectives).
  if (o_.vtu)
    run_on_root(comm_, [&] {
      const std::string name = cat(std::filesystem::path(base_).filename().string(), "_", outputs_, ".vtu");
      f.push_back(node_type_);
      io::write_vtu(std::filesystem::path(base_).parent_path().string() + "/" + name, m_, f, o_.deck_yaml);
      pvd_->add(ns.time(), name);
    });
#endif
  field_steps_.steps.push_back({ns.time(), own_segment_, outputs_++});
}

void CaseOutput::row(const ForcesRow& r) {
  table_ << r.step << "," << r.time << "," << r.c_d << "," << r.c_l << "," << r.delta_p << "," << r.linear_iterations
         << "," << r.seconds;
  for (double v : r.probes) table_ << "," << v;
  table_ << "\n";
  rows_.push_back(r);
}

void CaseOutput::continue_table(const std::vector<ForcesRow>& earlier) {
  for (const ForcesRow& r : earlier) row(r);
}

void CaseOutput::write_table() const { core::write_text_atomic(base_ + "_forces.csv", table_.str()); }

void CaseOutput::flush_table(bool collective) {
  if (collective)
    run_on_root(comm_, [&] { table_pacer_.rewrite_if_due([&] { write_table(); }); });
  else if (comm_.root())
    write_table();
}

void CaseOutput::finish() {
#if TESSERA_HAVE_HDF5
  if (xdmf_) xdmf_->finish();
#endif
  run_on_root(comm_, [&] {
#if TESSERA_HAVE_VTK
    if (pvd_) pvd_->finish();
#endif
    write_table();
  });
}

std::string CaseOutput::summary(const CaseResult& r) const {
  if (!comm_.root()) return "";
  std::ostringstream s;
  s.precision(10);
  s << "quantity,value\n";
  if (r.steady)
    s << "c_d," << r.c_d << "\nc_l," << r.c_l << "\n";
  else
    s << "c_d_max," << r.c_d << "\nc_d_max_time," << r.c_d_time << "\nc_l_max," << r.c_l << "\nc_l_max_time,"
      << r.c_l_time << "\nstrouhal," << r.strouhal << "\n";
  for (size_t k = 0; k < o_.probes.size(); ++k)  // where the table's u_k, v_k, p_k are
    s << "probe_" << k + 1 << "_x," << o_.probes[k][0] << "\nprobe_" << k + 1 << "_y," << o_.probes[k][1] << "\n";
  s << "delta_p," << r.delta_p << "\ndofs," << r.dofs << "\ncells," << r.cells << "\nsteps," << r.steps << "\nseconds,"
    << r.seconds << "\nmean_linear_iterations," << r.mean_linear_iterations << "\n";
  core::write_text_atomic(base_ + "_summary.csv", s.str());
  std::string files = cat(xdmf_ ? base_ + ".xmf (fields), " : "", pvd_ ? base_ + ".pvd (fields), " : "", base_,
                          "_forces.csv, ", base_, "_summary.csv");
  // A steady solve has one row, which is no curve over time (its plot was one point on an axis
  // from -0.5 to 0.5): its values are in the summary. Without VTK there is no PNG writer.
#if TESSERA_HAVE_VTK
  if (rows_.size() > 1) {
    std::vector<double> t, c_d, c_l, delta_p;
    for (const ForcesRow& r : rows_)
      t.push_back(r.time), c_d.push_back(r.c_d), c_l.push_back(r.c_l), delta_p.push_back(r.delta_p);
    // An impulsive start's first forces are tens of times the rest: they would flatten the curves.
    std::vector<io::LinePlot> plots{{"drag coefficient", "time", "c_D", false, {{"", t, c_d}}},
                                    {"lift coefficient", "time", "c_L", false, {{"", t, c_l}}},
                                    {"pressure difference", "time", "delta p", false, {{"", t, delta_p}}}};
    for (io::LinePlot& p : plots) p.clip_outliers = true;
    io::write_line_plots_png(base_ + "_forces.png", plots, 440, 300);
    files += cat(", ", base_, "_forces.png");
  }
#endif
  return files;
}

}  // namespace tessera::jobs
