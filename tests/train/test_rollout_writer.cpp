// Writing a rollout as its states are made (train/rollout_output: RolloutWriter): the staged
// series leaves an earlier run's results alone until finish(), a run stopped midway leaves its
// steps so far in <name>.partial, and the wake probe taken from the states as they pass equals the
// one taken from the whole series (train/wake_probe, tested against sinusoids).
#include <ATen/ATen.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "tests/synthetic_flow.hpp"
#include "tests/test_paths.hpp"
#include "train/mesh_data.hpp"
#include "train/rollout_output.hpp"
#include "train/wake_probe.hpp"

using namespace tessera;
namespace fs = std::filesystem;

namespace {

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The steps an .xmf index lists.
int64_t listed_steps(const std::string& xmf) {
  const std::string s = text_of(xmf);
  int64_t n = 0;
  for (size_t at = s.find("<Time Value="); at != std::string::npos; at = s.find("<Time Value=", at + 1)) ++n;
  return n;
}

// The times an .xmf index lists.
std::vector<double> listed_times(const std::string& xmf) {
  const std::string s = text_of(xmf), mark = "<Time Value=\"";
  std::vector<double> times;
  for (size_t at = s.find(mark); at != std::string::npos; at = s.find(mark, at + 1))
    times.push_back(std::stod(s.substr(at + mark.size())));
  return times;
}

bool same_or_both_nan(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == Approx(b); }

}  // namespace

TEST_CASE("a staged rollout writer leaves the earlier results until it finishes", "[train][rollout]") {
  // 80 states of the synthetic channel flow: its wave (period 1.57 at dt 0.05) passes 2.5 times.
  const train::TrajectoryData t =
      train::prepare_trajectory(test::synthetic_trajectory(10, 3, 80, 0.2, 0.4), mesh::AugmentOptions{}, "synthetic");
  const std::string dir = test::test_out() + "/rollout_writer", base = dir + "/rollout";
  fs::remove_all(dir);
  fs::create_directories(dir);
  core::write_text_atomic(base + ".xmf", "earlier");
  core::write_text_atomic(base + "_summary.csv", "earlier");
  const std::string staged = train::RolloutWriter::staging_dir(base);
  CHECK(staged == dir + "/rollout.partial");
  // The prediction: the data, damped and shifted by a step (a phase lag), so that every output differs.
  auto predicted = [&](int64_t k) { return 0.9 * t.velocity[std::max<int64_t>(k - 1, 0)]; };
  {
    train::RolloutWriter stopped(base, t, 79, 0.05, true, "", Comm::self(), true, true);
    for (int64_t k = 0; k < 6; ++k) stopped.write_state(k, predicted(k));
    CHECK(text_of(base + ".xmf") == "earlier");
    CHECK(fs::exists(staged + "/rollout_000005.h5"));
    CHECK(fs::exists(staged + "/rollout_5.vtu"));
  }  // destroyed without finish(): the run stopped, or an error
  CHECK(text_of(base + ".xmf") == "earlier");
  CHECK(text_of(base + "_summary.csv") == "earlier");
  CHECK(listed_steps(staged + "/rollout.xmf") == 6);  // ParaView opens the steps so far
  CHECK(text_of(staged + "/rollout.pvd").find("rollout_5.vtu") != std::string::npos);

  train::RolloutWriter writer(base, t, 79, 0.05, true, "", Comm::self(), true, true);
  CHECK_FALSE(fs::exists(staged + "/rollout_000005.h5"));  // the stopped run's staging folder went
  std::vector<at::Tensor> states;
  train::Rollout r;
  for (int64_t k = 0; k < 80; ++k) {
    states.push_back(predicted(k));
    writer.write_state(k, states.back());
    if (k > 0) {
      r.rmse.push_back((states.back() - t.velocity[k]).pow(2).mean().sqrt().item<double>());
      r.persistence_rmse.push_back((t.velocity[0] - t.velocity[k]).pow(2).mean().sqrt().item<double>());
    }
  }
  CHECK_THROWS(writer.write_state(5, states[5]));  // states come in order
  CHECK(text_of(base + ".xmf") == "earlier");
  bool called = false;
  const auto written = writer.finish(r, train::RolloutSummary{}, [&] {
    called = true;  // before the series moves in: the earlier results and the staged series both there
    CHECK(text_of(base + ".xmf") == "earlier");
    CHECK(listed_steps(staged + "/rollout.xmf") == 80);
    train::remove_earlier_rollouts(base);
  });
  REQUIRE(called);
  CHECK_FALSE(fs::exists(staged));
  CHECK(listed_steps(base + ".xmf") == 80);
  CHECK(fs::exists(base + "_000079.h5"));
  CHECK(fs::exists(base + "_mesh.h5"));
  CHECK(text_of(base + ".pvd").find("rollout_79.vtu") != std::string::npos);
  CHECK(fs::exists(dir + "/rollout_79.vtu"));
  CHECK(text_of(base + "_summary.csv").rfind("metric,model,persistence\n", 0) == 0);
  CHECK(text_of(base + "_metrics.csv").find("\n79,") != std::string::npos);
  CHECK(std::find(written.begin(), written.end(), base + ".xmf") != written.end());

  // The wake probe of the passing states is the whole series' (train::wake_probe).
  const train::WakeProbe whole = train::wake_probe(t.velocity, at::stack(states), t.node_type, t.pos, 0.05);
  const train::WakeProbe passing = writer.wake_probe();
  REQUIRE(whole.node >= 0);
  CHECK(passing.node == whole.node);
  CHECK(std::isfinite(whole.frequency_true));
  CHECK(same_or_both_nan(passing.frequency_true, whole.frequency_true));
  CHECK(same_or_both_nan(passing.frequency_pred, whole.frequency_pred));
  CHECK(passing.amplitude_true == Approx(whole.amplitude_true));
  CHECK(passing.amplitude_pred == Approx(whole.amplitude_pred));
  CHECK(passing.amplitude_pred == Approx(0.9 * whole.amplitude_true).epsilon(0.05));
  const std::string series = text_of(base + "_wake_probe_series.csv");
  CHECK(std::count(series.begin(), series.end(), '\n') == 81);  // header and 80 states
}

TEST_CASE("a mesh rollout's one initial state is held as a view, not copies", "[train][rollout]") {
  mesh::Mesh m = mesh::rectangle_grid(6, 2, 2.0, 0.5);
  mesh::assign_node_types(
      m, {{"left", mesh::kInflow}, {"right", mesh::kOutflow}, {"bottom", mesh::kWall}, {"top", mesh::kWall}});
  const io::Trajectory one = train::initial_condition_trajectory(m, 1.5, true);
  CHECK(one.at("velocity").shape[0] == 1);
  const train::TrajectoryData held =
      train::held_for(train::prepare_trajectory(one, mesh::AugmentOptions{}, "mesh"), 10'000);
  REQUIRE(held.steps() == 10'001);
  CHECK(held.velocity.stride(0) == 0);  // one state's storage
  CHECK(at::equal(held.velocity[10'000], held.velocity[0]));
  // The parabolic inflow profile of peak 1.5 at mid-height (node (0, 1) of the 6 x 2 grid), zero on the walls.
  CHECK(held.velocity[3][7][0].item<float>() == Approx(1.5));
  CHECK(held.velocity[3][0][0].item<float>() == 0.0f);
}

TEST_CASE("a mesh rollout's inflow parabola spans the inflow, which must be the channel's left end",
          "[train][rollout]") {
  // An inlet on the upper half of the left end (a backward-facing step): the parabola spans y in
  // [0.5, 1], not the mesh's height, and interior nodes beside the inlet's span start at rest.
  mesh::Mesh m = mesh::rectangle_grid(4, 4, 2.0, 1.0);
  mesh::assign_node_types(
      m, {{"left", mesh::kWall}, {"right", mesh::kOutflow}, {"bottom", mesh::kWall}, {"top", mesh::kWall}});
  for (int64_t v = 0; v < m.num_nodes(); ++v)
    if (m.coords[v * 2] == 0 && m.coords[v * 2 + 1] > 0.5 && m.coords[v * 2 + 1] < 1) m.node_type[v] = mesh::kInflow;
  const io::Trajectory t = train::initial_condition_trajectory(m, 2.0, true);
  const std::vector<float>& u = t.at("velocity").f32;
  for (int64_t v = 0; v < m.num_nodes(); ++v) {
    const double x = m.coords[v * 2], y = m.coords[v * 2 + 1];
    INFO("node " << v << " at (" << x << ", " << y << ")");
    if (m.node_type[v] == mesh::kWall) {
      CHECK(u[v * 2] == 0.0f);
    } else {
      const double s = y - 0.5;  // across the inlet's span [0.5, 1]
      CHECK(u[v * 2] == Approx(s > 0 && s < 0.5 ? 4 * 2.0 * s * (0.5 - s) / 0.25 : 0.0).margin(1e-6));
    }
    CHECK(u[v * 2 + 1] == 0.0f);
  }
  // No inflow, or an inflow at the right end: refused as the solver refuses them (they ran, with
  // the flow leaving through the "inflow").
  mesh::Mesh none = mesh::rectangle_grid(4, 2, 2.0, 0.5);
  mesh::assign_node_types(
      none, {{"left", mesh::kWall}, {"right", mesh::kOutflow}, {"bottom", mesh::kWall}, {"top", mesh::kWall}});
  CHECK_THROWS_WITH(train::initial_condition_trajectory(none, 1.0, false),
                    Catch::Contains("the mesh has no inflow nodes (type 4)"));
  mesh::Mesh right = mesh::rectangle_grid(4, 2, 2.0, 0.5);
  mesh::assign_node_types(
      right, {{"left", mesh::kOutflow}, {"right", mesh::kInflow}, {"bottom", mesh::kWall}, {"top", mesh::kWall}});
  CHECK_THROWS_WITH(train::initial_condition_trajectory(right, 1.0, false),
                    Catch::Contains("on a straight boundary at the mesh's smallest x (0)"));
}

TEST_CASE("output.every: the series holds every n-th state and the last", "[train][rollout]") {
  const train::TrajectoryData t =
      train::prepare_trajectory(test::synthetic_trajectory(6, 2, 8, 0.2, 0.4), mesh::AugmentOptions{}, "synthetic");
  const std::string dir = test::test_out() + "/rollout_writer_every", base = dir + "/rollout";
  fs::remove_all(dir);
  fs::create_directories(dir);
  train::RolloutWriter writer(base, t, 7, 0.05, true, "", Comm::self(), true, false, 3);
  train::Rollout r;
  for (int64_t k = 0; k < 8; ++k) {
    writer.write_state(k, t.velocity[k]);
    if (k > 0) r.rmse.push_back(0), r.persistence_rmse.push_back(0);
  }
  writer.finish(r, train::RolloutSummary{});
  CHECK(writer.series_states() == 4);  // states 0, 3, 6 and the last, 7
  const std::vector<double> times = listed_times(base + ".xmf");
  REQUIRE(times.size() == 4);
  CHECK(times[0] == 0.0);
  CHECK(times[1] == Approx(0.15));
  CHECK(times[2] == Approx(0.3));
  CHECK(times[3] == Approx(0.35));
  for (int k : {0, 3, 6, 7}) CHECK(fs::exists(cat(dir, "/rollout_", k, ".vtu")));
  for (int k : {1, 2, 4, 5}) CHECK_FALSE(fs::exists(cat(dir, "/rollout_", k, ".vtu")));
  // The metrics and the wake probe's series keep every state.
  CHECK(text_of(base + "_metrics.csv").find("\n7,") != std::string::npos);
}

TEST_CASE("a staging folder is removed only when it holds a rollout's files", "[train][rollout]") {
  const std::string dir = test::test_out() + "/rollout_staging", base = dir + "/rollout";
  const std::string staged = train::RolloutWriter::staging_dir(base);
  fs::remove_all(dir);
  fs::create_directories(staged);
  core::write_text_atomic(staged + "/rollout.xmf", "x");
  core::write_text_atomic(staged + "/rollout_000003.h5", "x");
  train::RolloutWriter::remove_staging(base);  // what a stopped run left
  CHECK_FALSE(fs::exists(staged));
  train::RolloutWriter::remove_staging(base);  // none: nothing to do
  fs::create_directories(staged);
  core::write_text_atomic(staged + "/rollout.xmf", "x");
  core::write_text_atomic(staged + "/notes.txt", "mine");
  CHECK_THROWS_WITH(train::RolloutWriter::remove_staging(base),
                    Catch::Contains("rollout.partial is where tessera-rollout writes a series while it computes, and "
                                    "it holds notes.txt, which no rollout named 'rollout' wrote there"));
  CHECK(text_of(staged + "/notes.txt") == "mine");
  fs::remove_all(staged);
  core::write_text_atomic(staged, "a file");
  try {
    train::RolloutWriter::remove_staging(base);
    FAIL("a file in the way was not refused");
  } catch (const Error& e) {
    CHECK(e.key() == "output.name");
    CHECK(std::string(e.what()).find("a file of that name is in the way") != std::string::npos);
  }
  CHECK(text_of(staged) == "a file");
}
