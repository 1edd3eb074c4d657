#include "io/mesh_image.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_VTK
#include <vtkGenericCell.h>
#include <vtkNew.h>
#include <vtkStaticCellLocator.h>

#include "io/vtk_grid.hpp"
#endif

namespace tessera::io {

MeshImageSampler::MeshImageSampler(const mesh::Mesh& m, int64_t width) : num_nodes_(m.num_nodes()) {
  if (m.dim != 2) throw Error(cat("mesh image: a ", m.dim, "D mesh; only 2D meshes are drawn"));
  if (width < 1 || m.num_cells() == 0) throw Error(cat("mesh image: width ", width, " or an empty mesh"));
#if TESSERA_HAVE_VTK
  double lo[2] = {1e300, 1e300}, hi[2] = {-1e300, -1e300};
  for (int64_t i = 0; i < m.num_nodes(); ++i)
    for (int k = 0; k < 2; ++k)
      lo[k] = std::min(lo[k], m.coords[2 * i + k]), hi[k] = std::max(hi[k], m.coords[2 * i + k]);
  const double pixel = (hi[0] - lo[0]) / static_cast<double>(width);
  if (!(pixel > 0)) throw Error("mesh image: the mesh has no extent in x");
  width_ = width;
  height_ = std::max<int64_t>(1, static_cast<int64_t>(std::lround((hi[1] - lo[1]) / pixel)));
  npc_ = mesh::nodes_per_cell(m.cell_type);
  std::vector<int64_t> all(static_cast<size_t>(m.num_cells()));
  for (size_t c = 0; c < all.size(); ++c) all[c] = static_cast<int64_t>(c);
  // The grid holds cell c with its points in the mesh's order, so FindCell's cell id and weights
  // index m.cells directly (the grid's own point numbering is never needed).
  auto grid = make_vtk_grid(m, {}, all, "");
  vtkNew<vtkStaticCellLocator> locator;
  locator->SetDataSet(grid);
  locator->BuildLocator();
  vtkNew<vtkGenericCell> cell;
  nodes_.assign(static_cast<size_t>(width_ * height_ * npc_), -1);
  weights_.assign(nodes_.size(), 0.0);
  std::vector<double> w(static_cast<size_t>(npc_));
  for (int64_t row = 0; row < height_; ++row)
    for (int64_t col = 0; col < width_; ++col) {
      // Row 0 is the top of the image: the largest y.
      double x[3] = {lo[0] + (col + 0.5) * pixel, hi[1] - (row + 0.5) * pixel, 0}, pcoords[3];
      const vtkIdType c = locator->FindCell(x, 1e-12, cell, pcoords, w.data());
      if (c < 0) continue;
      const size_t at = static_cast<size_t>((row * width_ + col) * npc_);
      for (int k = 0; k < npc_; ++k) {
        nodes_[at + k] = m.cells[c * npc_ + k];
        weights_[at + k] = w[k];
      }
    }
#else
  throw Error("mesh image: this build has no VTK (TESSERA_WITH_VTK)");
#endif
}

ImagePanel MeshImageSampler::sample(const std::vector<double>& v) const {
  if (static_cast<int64_t>(v.size()) != num_nodes_)
    throw Error(cat("mesh image: ", v.size(), " values for ", num_nodes_, " nodes"));
  ImagePanel p;
  p.width = width_;
  p.height = height_;
  p.values.assign(static_cast<size_t>(width_ * height_), std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < p.values.size(); ++i) {
    if (nodes_[i * npc_] < 0) continue;
    double s = 0;
    for (int k = 0; k < npc_; ++k) s += weights_[i * npc_ + k] * v[static_cast<size_t>(nodes_[i * npc_ + k])];
    p.values[i] = s;
  }
  return p;
}

}  // namespace tessera::io
