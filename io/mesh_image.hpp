// Node fields of a 2D mesh sampled on a regular image grid, for pictures (rollout snapshots):
// VTK's static cell locator finds the cell under each pixel centre once, and each field is then
// interpolated with that cell's shape functions. Pixels outside the mesh (obstacles, outside the
// domain) are NaN, which write_panels_png draws grey.
#pragma once
#include <cstdint>
#include <vector>

#include "io/png.hpp"
#include "mesh/mesh.hpp"

namespace tessera::io {

class MeshImageSampler {
 public:
  // An image `width` pixels wide over the mesh's bounding box, as tall as its aspect ratio gives
  // (at least 1). Throws for a 3D mesh or in builds without VTK.
  MeshImageSampler(const mesh::Mesh& mesh, int64_t width);
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }
  // node_values: one value per mesh node. Returns the panel (lo/hi left to the caller).
  ImagePanel sample(const std::vector<double>& node_values) const;

 private:
  int64_t width_ = 0, height_ = 0, num_nodes_ = 0;
  int npc_ = 0;                  // nodes per cell
  std::vector<int64_t> nodes_;   // per pixel: npc_ node ids (-1: outside)
  std::vector<double> weights_;  // per pixel: npc_ interpolation weights
};

}  // namespace tessera::io
