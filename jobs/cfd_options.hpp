// The typed options of tessera-cfd's jobs, and the one place that reads them from a deck: the
// schema entries (flow.*, forces.*, time.*, steady.*, analysis.*, solver.*, output.*, dataset.*)
// are declared in cfd_options.cpp, each deck is read once into these structs, and the checks that
// span keys happen there with the deck's file:line. The jobs themselves never see a deck.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "jobs/case_restart.hpp"
#include "mesh/gmsh_io.hpp"
#include "solvers/navier_stokes.hpp"

namespace tessera::io {
class Deck;
class Schema;
}  // namespace tessera::io

namespace tessera::jobs {

// flow.* keys (viscosity, density, inflow) and the FlowConfig they describe.
void add_flow_keys(io::Schema& schema);
// job, flow.*, forces.*, time.*, steady.*, analysis.*, solver.*, output.* (mesh.* separately).
void add_case_keys(io::Schema& schema);
// dataset.* (the channel and element sizes come from mesh.cylinder.*).
void add_dataset_keys(io::Schema& schema);

// What tessera-cfd does, and the PETSc options every job starts PETSc with.
struct JobOptions {
  enum class Kind { Case, Dataset } kind = Kind::Case;
  std::string petsc_options;  // solver.petsc_options
};
JobOptions job_options(const io::Deck& deck);

// The fluid and the linear solver; force_group is set by a case (forces.group) only.
struct FlowOptions {
  solvers::FlowConfig flow;
  solvers::LinearSolverConfig linear;  // solver.refactor_every, solver.rtol
  double max_cfl = 20;                 // time.max_cfl: a run stops above this CFL number
};
FlowOptions flow_options(const io::Deck& deck);

// The force coefficients c = 2 F / (ρ U_ref² L_ref) and the pressure difference probes.
struct ForceOptions {
  std::string group;
  double reference_length = 0.1;
  bool reference_length_default = false;    // not given in the deck (DFG's cylinder diameter)
  double reference_velocity = 0;            // resolved: forces.reference_velocity or the mean inflow speed
  std::array<double, 4> pressure_points{};  // x1, y1, x2, y2
  bool pressure_points_default = false;     // the deck does not give them: DFG's, before and behind its cylinder
};

struct TimeOptions {
  bool steady = true;        // time.mode
  bool from_steady = false;  // transient started from the steady solution (time.initial)
  // time.initial: restart: the state read from time.restart_file (checked against the mesh when
  // the solver is built); the run goes on from its time to `end`.
  std::optional<CaseRestart> restart;
  double dt = 0.005, end = 1;
  double steady_rtol = 1e-10;  // steady.rtol
  int steady_max_iterations = 60;
  double analysis_start = 0;  // maxima and the Strouhal number use t >= this
};

struct OutputOptions {
  std::string dir, name;
  int64_t every = 0;            // transient: fields every this many steps; 0: the last step only
  int64_t restart_every = 100;  // transient: <name>_restart.h5 every this many steps; 0: the last step only
  bool xdmf = true, vtu = false;
  std::vector<std::array<double, 2>> probes;  // output.probes: points whose u, v, p join the forces table
  bool probes_from_restart = false;           // not given: the restart file's points, as the run it continues
  std::string deck_yaml;                      // the resolved deck, stored in the output files
  std::string base() const { return dir + "/" + name; }
};

struct CaseOptions {
  bool builtin_mesh = false;  // mesh.source: cylinder (its circle is a circle, however coarse)
  FlowOptions flow;
  ForceOptions forces;
  TimeOptions time;
  OutputOptions output;
};
CaseOptions case_options(const io::Deck& deck);

struct DatasetSplit {
  std::string name;    // train, valid or test
  int64_t begin, end;  // global trajectory indices
};

// Trajectory i's parameters are drawn uniformly within these [min, max] ranges.
struct SampleRanges {
  std::array<double, 2> center_x{}, center_y{}, radius{}, inflow_speed{};
};

struct DatasetOptions {
  FlowOptions flow;
  std::string dir;
  std::vector<DatasetSplit> splits;  // the non-empty ones, in the order train, valid, test
  int64_t seed = 1, steps = 600, max_new = 0;
  bool overwrite = false;  // replace a finished dataset made with other settings
  double dt = 0.01, spinup = 1.0;
  SampleRanges ranges;
  mesh::CylinderChannel channel;  // mesh.cylinder.*; the cylinder itself is drawn per trajectory
  std::string deck_yaml;          // the resolved deck, stored in the split files
  std::string petsc_options;      // solver.petsc_options, then the command line's: part of the settings
  int64_t total() const { return splits.empty() ? 0 : splits.back().end; }
};
// Also checks that every trajectory's draw gives a cylinder inside the channel.
DatasetOptions dataset_options(const io::Deck& deck);

}  // namespace tessera::jobs
