// <name>_restart.h5: the state a job: case goes on from (time.initial: restart). It is written
// every output.restart_every steps and at the last step (a steady run: its steady state), so that a run stopped by a
// signal, a failed step or the end of a batch job's time can be continued; a restart continues the run it came from (to
// the bit with solver.refactor_every 1 at the same rank count), on any rank count, since the solver's TimeState is
// ordered by P2 node and vertex. An HDF5 file h5py reads: attributes format, time, steps, last_dt, time_carry,
// vertices, cells, mesh_fingerprint and deck (the run's resolved deck); datasets velocity [P2 nodes, 2], pressure
// [vertices] and previous_velocity, previous_pressure (the step before, for BDF2); and the forces table up to the
// state, dataset forces [rows, 7 + 3 per probe] (columns in attribute forces_columns; the probes' points in dataset
// probe_points [probes, 2]) with attributes forces_from, the time it starts at (0, or the restart time of a run that
// continued a file without it: files written before it was added), and forces_basis (ForcesTableInfo); and the field
// outputs up to the state (FieldSteps): dataset field_steps [outputs, 3] (time, segment, index) with attribute
// field_segments (the segments, one a line, relative to the file's folder).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "jobs/field_steps.hpp"
#include "jobs/forces_row.hpp"
#include "mesh/mesh.hpp"
#include "solvers/navier_stokes.hpp"

namespace tessera::jobs {

struct CaseRestart {
  std::string path;
  solvers::NavierStokes::TimeState state;
  int64_t vertices = 0, cells = 0;
  std::string mesh_fingerprint;  // io::mesh_fingerprint of the mesh it was computed on
  std::string deck_yaml;         // the deck of the run that wrote it
  // The forces table's rows up to the state (steps <= state.steps), and the time they start at;
  // no rows in a file written before they were stored (forces_from is then the state's time).
  std::vector<ForcesRow> forces;
  ForcesTableInfo forces_info;  // basis "" in files written before it was stored
  // The field outputs before the state's time (segments relative to the working directory): a
  // continuation's series index them. None in files written before they were stored.
  FieldSteps fields;
};

// "<output base>_restart.h5".
std::string case_restart_path(const std::string& output_base);

// Collective (its error is every rank's): rank 0 writes `path` atomically (the previous file stays
// whole until the new one is complete), with the forces table's rows so far (rank 0's), what
// they are (`info`), and the field outputs so far (segments relative to `path`'s folder).
void write_case_restart(const std::string& path, const solvers::NavierStokes& ns, const mesh::Mesh& mesh,
                        const std::string& mesh_fingerprint, const std::string& deck_yaml,
                        const std::vector<ForcesRow>& forces, const ForcesTableInfo& info, const FieldSteps& fields,
                        const Comm& comm);

// Reads and checks a restart file (its format, sizes and values); errors name the file, without a
// key (the caller's key named it).
CaseRestart read_case_restart(const std::string& path);

// Throws unless `mesh` is the mesh the state was computed on: its sizes, then its fingerprint.
void check_restart_mesh(const CaseRestart& restart, const mesh::Mesh& mesh, const std::string& mesh_fingerprint);

}  // namespace tessera::jobs
