// What job: case writes under output.dir/output.name: fields (XDMF, VTU) every output step, the
// forces and summary tables, and a plot of the force history (<name>_forces.png). Rank 0 writes
// the text and VTK files; the tables are rewritten atomically, so a run that fails keeps valid
// files of everything before the failing step.
#pragma once
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "core/rewrite_pacer.hpp"
#include "io/field.hpp"
#include "jobs/cfd_options.hpp"
#include "jobs/field_steps.hpp"
#include "jobs/forces_row.hpp"
#include "mesh/mesh.hpp"
#include "solvers/navier_stokes.hpp"

namespace tessera::io {
class XdmfSeries;
class PvdCollection;
}  // namespace tessera::io

namespace tessera::jobs {

struct CaseResult;

class CaseOutput {
 public:
  // Collective: creates the output directory (rank 0) and opens the field series. A continuation's
  // series start with `earlier`, its restart file's field outputs (segments relative to the
  // working directory), those whose files are found, referred to where they are.
  CaseOutput(const OutputOptions& options, const mesh::Mesh& mesh, const Comm& comm, const FieldSteps& earlier = {});
  ~CaseOutput();

  // Collective: velocity, pressure and vorticity at the solver's current time.
  void fields(const solvers::NavierStokes& ns);
  // One line of <name>_forces.csv (kept in memory until flush_table).
  void row(const ForcesRow& row);
  // A continuation's table starts with the rows of the run it continues (its restart file's).
  void continue_table(const std::vector<ForcesRow>& earlier);
  // The table's rows so far (every rank's copy), for the restart file.
  const std::vector<ForcesRow>& rows() const { return rows_; }
  // Rewrites <name>_forces.csv (rank 0) when due: after each call until the rewrites have taken
  // 0.1 s, then at most 5% of the run's time (core/rewrite_pacer.hpp; a million steps rewrote
  // terabytes).
  // Collective, so that its failure is every rank's error; `collective` false on an error path,
  // where the other ranks may not be here to take part, and which always writes.
  void flush_table(bool collective = true);
  // Brings the field series' indexes and the forces table up to date. Collective.
  void finish();
  // The summary table and the force-history plot (drag, lift and pressure difference over time).
  // Returns the files this case wrote, for the log (empty on ranks other than 0).
  std::string summary(const CaseResult& result) const;
  const std::string& base() const { return base_; }
  // The field outputs so far, the earlier runs' included (segments relative to the output folder),
  // for the restart file.
  const FieldSteps& field_steps() const { return field_steps_; }
  // What the series took over from the earlier runs, for the log ("" without any; rank 0).
  const std::string& earlier_note() const { return earlier_note_; }

 private:
  void write_table() const;  // <name>_forces.csv, now (rank 0)
  void continue_series(const FieldSteps& earlier);
  const OutputOptions& o_;
  const mesh::Mesh& m_;
  Comm comm_;
  std::string base_;
  io::Field node_type_{"node_type", 1, false, {}, /*integer=*/true};
  std::unique_ptr<io::XdmfSeries> xdmf_;
  std::unique_ptr<io::PvdCollection> pvd_;
  FieldSteps field_steps_;
  int32_t own_segment_ = 0;                                 // this run's in field_steps_.segments
  int64_t outputs_ = 0;                                     // this run's field outputs so far
  std::vector<std::pair<double, std::string>> earlier_h5_;  // found earlier XDMF steps (rank 0)
  std::string earlier_note_;
  std::ostringstream table_;
  core::RewritePacer table_pacer_;
  std::vector<ForcesRow> rows_;  // for the plot and the restart file
};

}  // namespace tessera::jobs
