#include "train/hybrid/flow_config.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/mesh_deck.hpp"
#include "io/schema.hpp"
#include "jobs/cfd_options.hpp"

namespace tessera::train::hybrid {

namespace {

// The profile's shape (peak 1) at each inflow node: {node, shape} pairs.
std::vector<std::pair<int64_t, double>> inflow_shape(const mesh::Mesh& m, solvers::FlowConfig::Profile profile) {
  // Over the inflow's own span, as the solver's (solvers/navier_stokes.cpp).
  const mesh::Box in = mesh::inflow_extent(m);
  const double ymin = in.y0, h = in.y1 - in.y0;
  std::vector<std::pair<int64_t, double>> out;
  for (int64_t v = 0; v < m.num_nodes(); ++v) {
    if (m.node_type[v] != mesh::kInflow) continue;
    const double y = m.coords[v * 2 + 1] - ymin;
    out.emplace_back(v, profile == solvers::FlowConfig::Profile::Uniform ? 1.0 : 4 * y * (h - y) / (h * h));
  }
  return out;
}

}  // namespace

double fit_inflow_speed(const mesh::Mesh& m, const std::vector<double>& u, solvers::FlowConfig::Profile profile) {
  const auto shape = inflow_shape(m, profile);
  if (shape.empty())
    throw Error(
        "the trajectory's mesh has no inflow nodes (type 4) to take the inflow from (for imported data, "
        "re-import with node types: docs/import.md)",
        "data.dir");
  // The solver drives its flow along +x, with a profile across y (tessera-cfd's channel): data
  // whose flow enters along y gave "no inflow nodes", its inflow nodes all at a y wall.
  double uf = 0, ff = 0, along_x = 0, along_y = 0;
  for (const auto& [v, f] : shape) {
    uf += u[v * 2] * f;
    ff += f * f;
    along_x += std::abs(u[v * 2]);
    along_y += std::abs(u[v * 2 + 1]);
  }
  const auto n = static_cast<double>(shape.size());
  if (along_x == 0 && along_y == 0)
    throw Error(cat("the trajectory's first state is at rest at its ", shape.size(),
                    " inflow nodes: the solver's inflow speed is fitted to the first state's inflow, which a flow "
                    "started from rest does not have yet (a time-dependent inflow is not supported)"),
                "data.dir");
  if (along_y > along_x || !(ff > 0) || !(uf > 0))
    throw Error(cat("the trajectory's flow does not enter along +x (its ", shape.size(), " inflow nodes' mean |u_x| ",
                    along_x / n, ", mean |u_y| ", along_y / n, ", fitted inflow peak ", ff > 0 ? uf / ff : 0.0,
                    "): the hybrid's solver drives its flow along +x with a profile across y, as tessera-cfd's "
                    "channel; rotate or mirror the data so that its flow runs along +x"),
                "data.dir");
  return uf / ff;
}

double inflow_misfit(const mesh::Mesh& m, const std::vector<double>& u, solvers::FlowConfig::Profile profile,
                     double speed) {
  double diff = 0, norm = 0;
  for (const auto& [v, f] : inflow_shape(m, profile)) {
    diff += (u[v * 2] - speed * f) * (u[v * 2] - speed * f);
    norm += u[v * 2] * u[v * 2];
  }
  return norm > 0 ? std::sqrt(diff / norm) : 0.0;
}

namespace {

// The tessera-cfd deck stored with a dataset, read with tessera-cfd's own schema; false when
// there is none or it is another app's (tessera-import's). A tessera-cfd deck (one with a flow
// section) that does not read is an error: falling back to the defaults would run the solver with
// another fluid or other linear-solver settings than the data's, without a word.
bool stored_flow(const std::string& yaml, const std::string& what, jobs::FlowOptions& out) {
  if (yaml.empty()) return false;
  io::Schema schema("tessera-cfd");
  io::add_mesh_keys(schema);
  jobs::add_case_keys(schema);
  jobs::add_dataset_keys(schema);
  try {
    out = jobs::flow_options(io::Deck::parse(yaml, what + " (stored deck)", schema));
    return true;
  } catch (const Error& e) {
    const bool cfd_deck = yaml.rfind("flow:", 0) == 0 || yaml.find("\nflow:") != std::string::npos;
    if (!cfd_deck) return false;
    throw Error(cat(e.what(), " (the tessera-cfd deck stored with the dataset does not read with this build's ",
                    "tessera-cfd; the solver would not run with the data's settings)"));
  }
}

}  // namespace

TrajectoryFlow trajectory_flow(const std::string& stored_deck, const std::string& what, const mesh::Mesh& m,
                               const std::vector<double>& initial, const SolverOptions& o) {
  TrajectoryFlow t;
  jobs::FlowOptions stored;
  if (stored_flow(stored_deck, what, stored)) {
    t.flow = stored.flow;
    t.linear = stored.linear;
    std::string given;  // the deck's overrides of the stored settings
    for (const auto& [key, set] : {std::pair<const char*, bool>{"solver.viscosity", o.viscosity.has_value()},
                                   {"solver.refactor_every", o.refactor_every.has_value()},
                                   {"solver.rtol", o.rtol.has_value()}})
      if (set) given += cat(given.empty() ? "" : ", ", key);
    t.source = given.empty() ? cat("the tessera-cfd deck stored in ", what)
                             : cat(given, " from this deck, the others from the tessera-cfd deck stored in ", what);
  } else if (!o.viscosity) {
    throw Error(cat(what, " stores no tessera-cfd deck to take the fluid from: set solver.viscosity"),
                "solver.viscosity");
  } else {
    t.source = "the deck (the dataset stores no tessera-cfd deck)";
  }
  if (o.viscosity) t.flow.viscosity = *o.viscosity;
  if (o.refactor_every) t.linear.refactor_every = *o.refactor_every;
  if (o.rtol) t.linear.rtol = *o.rtol;
  t.flow.force_group.clear();
  t.flow.inflow_speed = fit_inflow_speed(m, initial, t.flow.profile);
  t.inflow_misfit = inflow_misfit(m, initial, t.flow.profile, t.flow.inflow_speed);
  return t;
}

}  // namespace tessera::train::hybrid
