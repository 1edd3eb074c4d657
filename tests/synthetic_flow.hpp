// A small synthetic flow dataset for training tests: a channel (rectangle grid; left inflow,
// right outflow, top/bottom walls) with an analytic velocity field, a parabolic profile carrying
// a travelling wave whose amplitude and phase differ per trajectory. Smooth and local in time,
// so next-step models can learn it; written in the graph-physics layout.
#pragma once
#include <cmath>
#include <string>

#include "io/dataset.hpp"
#include "mesh/structured.hpp"

namespace tessera::test {

// The fields on a channel mesh of height `height` (flow along x) whose node types are set.
inline io::Trajectory synthetic_trajectory(const mesh::Mesh& m, int64_t steps, double amplitude, double phase,
                                           double height) {
  const hsize_t n = m.num_nodes();
  io::Trajectory t;
  io::add_mesh_fields(t, m);
  auto& vel = t["velocity"];
  vel.shape = {hsize_t(steps), n, 2};
  auto& p = t["pressure"];
  p.shape = {hsize_t(steps), n, 1};
  for (int64_t s = 0; s < steps; ++s)
    for (hsize_t i = 0; i < n; ++i) {
      const double x = m.coords[2 * i], y = m.coords[2 * i + 1], time = 0.05 * s;
      const double profile = 4 * y * (height - y) / (height * height);
      const double wave = amplitude * std::sin(3 * x - 4 * time + phase);
      vel.f32.push_back(float(profile * (1 + wave)));
      vel.f32.push_back(float(0.2 * amplitude * profile * std::cos(3 * x - 4 * time + phase)));
      p.f32.push_back(float(2 - x));
    }
  return t;
}

inline io::Trajectory synthetic_trajectory(int nx, int ny, int64_t steps, double amplitude, double phase) {
  mesh::Mesh m = mesh::rectangle_grid(nx, ny, 2.0, 0.5);
  mesh::assign_node_types(
      m, {{"left", mesh::kInflow}, {"right", mesh::kOutflow}, {"bottom", mesh::kWall}, {"top", mesh::kWall}});
  return synthetic_trajectory(m, steps, amplitude, phase, 0.5);
}

// Writes <dir>/meta.json, train.h5 (n_train trajectories), valid.h5 and test.h5 (n_valid each).
inline void write_synthetic_dataset(const std::string& dir, int n_train, int n_valid, int64_t steps = 20) {
  auto meta = io::DatasetMeta::cylinder_flow(steps, 0.05);
  int k = 0;
  for (auto [split, count] : {std::pair{"train", n_train}, {"valid", n_valid}, {"test", n_valid}}) {
    io::DatasetWriter w(dir, split, meta);
    for (int i = 0; i < count; ++i, ++k) w.write(i, synthetic_trajectory(12, 4, steps, 0.1 + 0.03 * k, 0.7 * k));
    w.finish();
  }
}

}  // namespace tessera::test
