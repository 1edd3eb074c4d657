// tessera-import deck.yaml: converts a foreign mesh-simulation dataset (graph-physics HDF5, a VTU
// series, an XDMF3 series; docs/import.md) into tessera's dataset layout, which tessera-train
// and tessera-rollout read, and prints what it found.
//
//   build/apps/tessera-import decks/import.yaml --set import.source=/data/cylinder.h5 --set output.dir=out/cyl
//   build/apps/tessera-import decks/import.yaml --set import.source=/data/run/flow.pvd --set import.dt=0.01
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <filesystem>

#include "apps/app.hpp"
#include "core/counted.hpp"
#include "core/error.hpp"
#include "core/on_root.hpp"
#include "io/foreign.hpp"
#include "io/import_deck.hpp"
#include "mesh/mesh.hpp"

using namespace tessera;

// Logs the trajectories, their sizes, fields and node types.
static void describe(const io::ImportedDataset& ds, const io::ImportOptions& o, spdlog::logger& log) {
  // With import.max_trajectories the reader stops there: the source may hold more.
  const bool capped = o.max_trajectories > 0 && int64_t(ds.trajectories.size()) == o.max_trajectories;
  log.info("found {}{} ({} format) in {}; dt = {} (from {})",
           core::counted(ds.trajectories.size(), "trajectory", "trajectories"),
           capped ? " (import.max_trajectories: the source may hold more)" : "", io::foreign_format_name(ds.format),
           ds.source, ds.dt, ds.dt_source);
  if (ds.replaced_dt > 0)
    log.warn("import.dt = {} replaces dt = {} from {} (the dataset's time step is import.dt's)", ds.dt, ds.replaced_dt,
             ds.replaced_dt_source);
  bool inferred = false;
  for (const auto& t : ds.trajectories) {
    std::string types;
    for (auto [type, count] : t.type_counts) types += cat(types.empty() ? "" : ", ", type, ": ", count);
    log.info("  {}: {} steps, {} nodes, {} triangles; fields: velocity{}; node types {}{} ({})", t.source, t.steps,
             t.nodes, t.cells, t.has_pressure ? ", pressure" : "", t.node_types,
             t.inferred_flow.empty() ? "" : cat(" (flow towards ", t.inferred_flow, ")"), types);
    inferred = inferred || t.node_types == "inferred";
  }
  // The trajectories for which `lacks` holds, in one warning naming the first few (a file may hold
  // thousands): "<who> found no <what> in 2 of 9 trajectories (a, b); <advice>".
  auto warn_lacking = [&](auto lacks, const std::string& who, const std::string& what, const std::string& advice) {
    std::vector<std::string> lacking;
    for (const auto& t : ds.trajectories)
      if (lacks(t)) lacking.push_back(t.source);
    if (lacking.empty()) return;
    std::string names;
    for (size_t i = 0; i < lacking.size() && i < 3; ++i) names += cat(i ? ", " : "", lacking[i]);
    log.warn("{} found no {} in {} of {} ({}{}); {}", who, what, lacking.size(),
             core::counted(ds.trajectories.size(), "trajectory", "trajectories"), names,
             lacking.size() > 3 ? ", ..." : "", advice);
  };
  // A rule that finds no inflow, outflow or wall is most likely wrong for these files (a tolerance,
  // axis or wall speed that does not fit them: walls of 1e-3 from a penalty or LBM solver gave no
  // wall and inflow corners, without a word); the rollout would predict those nodes instead of
  // holding them. One warning per type. A node_type field with no boundary node is as suspect.
  const std::string axis = o.node_types.axis ? "y" : "x";
  for (auto [type, what] :
       {std::pair{mesh::kInflow, "inflow node (boundary nodes at the upstream end of " + axis + ")"},
        std::pair{mesh::kOutflow, "outflow node (at the downstream end of " + axis + ")"},
        std::pair{mesh::kWall, cat("wall node (boundary nodes whose speed stays at most ", o.node_types.wall_speed,
                                   " x the largest)")}})
    warn_lacking([type = type](const auto& t) { return t.node_types == "inferred" && !t.type_counts.count(type); },
                 "the node-type rule", what,
                 "check node_types.axis, node_types.direction, node_types.tolerance and node_types.wall_speed");
  warn_lacking(
      [](const auto& t) {
        return t.node_types != "inferred" && t.type_counts.size() == 1 && t.type_counts.count(mesh::kNormal);
      },
      "import", "boundary node in the node_type field",
      "every node is type 0 (normal): the rollout holds no boundary values");
  for (const std::string& w : ds.warnings) log.warn("{}", w);
  if (!ds.has_pressure())
    log.info("pressure: absent{}; the dataset lists no pressure field (training and rollout use velocity only)",
             std::any_of(ds.trajectories.begin(), ds.trajectories.end(), [](const auto& t) { return t.has_pressure; })
                 ? " in some trajectories, dropped from all"
                 : "");
  if (inferred) log.info("node-type rule: {}", o.node_types.describe());
}

static void run(apps::Context& ctx) {
  const io::Deck& d = ctx.deck;
  // 1. Options from the deck (import.*, fields.*, node_types.*).
  const io::ImportOptions o = io::import_options(d);
  const std::string source = d.resolve_path(d.get_string("import.source"));
  // The split is a plain file name, checked here with the deck (after reading the data, the
  // writer's check came late and named no --set).
  const std::string dir = d.get_output_dir("output.dir"), split = d.get_file_name("output.split");
  // A split imported (or made by tessera-cfd) earlier is somebody's data: replaced only when asked.
  if (const std::string existing = cat(dir, "/", split, ".h5");
      std::filesystem::exists(existing) && !d.get_bool("output.overwrite"))
    throw Error(cat(existing, " exists; choose another output.dir or output.split, or replace it with --set ",
                    "output.overwrite=true"),
                "output.split");
  // A format given that the source's name contradicts (an .h5 read as a VTU series) most likely
  // is a slip: the reader's own error would not name import.format.
  std::string contradicted;  // the format the name says, where import.format says another
  if (o.format != io::ForeignFormat::Auto) try {
      if (const io::ForeignFormat by_name = io::detect_foreign_format(source); by_name != o.format) {
        contradicted = io::foreign_format_name(by_name);
        ctx.log->warn("import.format is {}, but {} looks like {} by its name: read as {}",
                      io::foreign_format_name(o.format), source, contradicted, io::foreign_format_name(o.format));
      }
    } catch (const Error&) {  // a name that says nothing (or no file): the reader reports it
    }
  // One process reads and writes (steps 2-4); under mpirun the others learn whether it failed, so
  // that a bad input is one error line from rank 0 for every rank, not an aborted job.
  run_on_root(ctx.comm, [&] {
    // 2. Read the foreign dataset: every trajectory checked, node types read or inferred.
    io::ImportedDataset ds;
    try {
      ds = io::read_foreign(source, o);
    } catch (const Error& e) {
      // The reader's error ("not a well-formed XML file") does not say why it read that way.
      if (contradicted.empty()) throw;
      throw Error(cat(e.what(), " (read as ", io::foreign_format_name(o.format),
                      " by import.format; by its name it is ", contradicted, ")"),
                  "import.format");
    }
    // 3. Report what was found.
    describe(ds, o, *ctx.log);
    // 4. Write <dir>/<split>.h5, meta.json and <split>.import.yaml (atomically).
    io::write_imported(ds, o, dir, split, d.resolved_yaml());
    ctx.log->info("wrote {}/{}.h5 ({} of {} steps), {}/meta.json and {}/{}.import.yaml", dir, split,
                  core::counted(ds.trajectories.size(), "trajectory", "trajectories"), ds.trajectories.front().steps,
                  dir, dir, split);
  });
}

int main(int argc, char** argv) {
  return apps::run_app(
      argc, argv,
      {"tessera-import", "Convert a foreign dataset (graph-physics HDF5, VTU or XDMF series) to tessera's layout",
       io::add_import_keys, run, false, "docs/decks.md", [](const io::Deck& d) {
         const std::string split = d.get_file_name("output.split");
         return std::vector<apps::OutputClaim>{{"output.dir", "dataset", "", {split + ".", "meta.json"}}};
       }});
}
