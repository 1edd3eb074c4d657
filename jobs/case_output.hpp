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
  // Collective: creates the output directory (rank 0) and opens the field series.
  CaseOutput(const OutputOptions& options, const mesh::Mesh& mesh, const Comm& comm);
  ~CaseOutput();

  // Collective: velocity, pressure and vorticity at the solver's current time.
  void fields(const solvers::NavierStokes& ns);
  // One line of <name>_forces.csv (kept in memory until flush_table).
  void row(int64_t step, double t, double cd, double cl, double dp, int its, double seconds);
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

 private:
  void write_table() const;  // <name>_forces.csv, now (rank 0)
  const OutputOptions& o_;
  const mesh::Mesh& m_;
  Comm comm_;
  std::string base_;
  io::Field node_type_{"node_type", 1, false, {}, /*integer=*/true};
  std::unique_ptr<io::XdmfSeries> xdmf_;
  std::unique_ptr<io::PvdCollection> pvd_;
  int vtu_count_ = 0;
  std::ostringstream table_;
  core::RewritePacer table_pacer_;
  std::vector<double> time_, c_d_, c_l_, delta_p_;  // the rows, for the plot
};

}  // namespace tessera::jobs
