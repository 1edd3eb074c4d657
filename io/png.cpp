#include "io/png.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/canvas.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_VTK
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>

#include "io/vtk_write.hpp"
#endif

namespace tessera::io {

void write_png(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& rgb) {
  if (width <= 0 || height <= 0 || int64_t(rgb.size()) != width * height * 3)
    throw Error(
        cat(path, ": a ", width, " x ", height, " RGB image needs ", width * height * 3, " bytes, got ", rgb.size()));
#if TESSERA_HAVE_VTK
  vtkNew<vtkImageData> image;
  image->SetDimensions(static_cast<int>(width), static_cast<int>(height), 1);
  image->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  auto* pixels = static_cast<uint8_t*>(image->GetScalarPointer());
  // VTK's rows run from the bottom up; ours from the top down.
  for (int64_t row = 0; row < height; ++row)
    std::memcpy(pixels + (height - 1 - row) * width * 3, rgb.data() + row * width * 3, width * 3);
  core::ensure_parent_dir(path);
  vtkNew<vtkPNGWriter> writer;
  writer->SetInputData(image);
  write_atomically(*writer, path);
#else
  throw Error(cat(path, ": this build has no VTK, which writes PNG images (TESSERA_WITH_VTK)"));
#endif
}

void colormap_rgb(double value, double lo, double hi, uint8_t* rgb) {
  double s = hi > lo ? (value - lo) / (hi - lo) : 0.5;
  if (!std::isfinite(s)) s = 0.5;
  s = std::clamp(s, 0.0, 1.0);
  // Blue (59, 76, 192) -> white -> red (180, 4, 38), linear in each half.
  static const double blue[3] = {59, 76, 192}, white[3] = {247, 247, 247}, red[3] = {180, 4, 38};
  const double* a = s < 0.5 ? blue : white;
  const double* b = s < 0.5 ? white : red;
  const double w = s < 0.5 ? 2 * s : 2 * s - 1;
  for (int i = 0; i < 3; ++i) rgb[i] = static_cast<uint8_t>(std::lround((1 - w) * a[i] + w * b[i]));
}

void sequential_rgb(double value, double lo, double hi, uint8_t* rgb) {
  double s = hi > lo ? (value - lo) / (hi - lo) : 0.5;
  if (!std::isfinite(s)) s = 0.5;
  s = std::clamp(s, 0.0, 1.0);
  // Five anchors of matplotlib's viridis, linear in between.
  static const double anchor[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  const double u = s * 4;
  const int i = std::min(static_cast<int>(u), 3);
  const double w = u - i;
  for (int k = 0; k < 3; ++k) rgb[k] = static_cast<uint8_t>(std::lround((1 - w) * anchor[i][k] + w * anchor[i + 1][k]));
}

void write_panels_png(const std::string& path, const std::vector<ImagePanel>& panels, int64_t columns, int64_t zoom_x,
                      int64_t zoom_y, int64_t gap) {
  if (panels.empty() || columns < 1 || zoom_x < 1 || zoom_y < 1 || gap < 0)
    throw Error(cat(path, ": no panels, or a bad layout (columns ", columns, ", zoom ", zoom_x, " x ", zoom_y, ")"));
  const int64_t w = panels[0].width, h = panels[0].height;
  for (const ImagePanel& p : panels)
    if (p.width != w || p.height != h || int64_t(p.values.size()) != w * h)
      throw Error(cat(path, ": panels must all hold ", w, " x ", h, " values"));
  const int64_t rows = (int64_t(panels.size()) + columns - 1) / columns;
  bool titled = false;
  for (const ImagePanel& p : panels) titled = titled || !p.title.empty();
  const int64_t band = titled ? 20 : 0;  // title height above each panel
  bool scaled = false;
  for (const ImagePanel& p : panels) scaled = scaled || p.scale;
  const int64_t bar = 7, under = scaled ? bar + 18 : 0;  // colour bar and its labels below each panel
  const int64_t pw = w * zoom_x, ph = h * zoom_y;
  const int64_t width = columns * pw + (columns - 1) * gap, height = rows * (ph + band + under) + (rows - 1) * gap;
  Canvas canvas(width, height);
  for (size_t k = 0; k < panels.size(); ++k) {
    const ImagePanel& p = panels[k];
    const int64_t x0 = int64_t(k) % columns * (pw + gap), y0 = int64_t(k) / columns * (ph + band + under + gap) + band;
    if (titled) canvas.text(x0 + pw / 2, y0 - band + 3, p.title, 13, {30, 30, 30}, Canvas::Align::center);
    uint8_t c[3];
    auto colour = [&](double v) {  // the panel's colour map
      if (p.sequential)
        sequential_rgb(v, p.lo, p.hi, c);
      else
        colormap_rgb(v, p.lo, p.hi, c);
    };
    for (int64_t y = 0; y < ph; ++y)
      for (int64_t x = 0; x < pw; ++x) {
        const double v = p.values[(y / zoom_y) * w + x / zoom_x];
        if (std::isnan(v))
          c[0] = c[1] = c[2] = 225;
        else
          colour(v);
        canvas.set(x0 + x, y0 + y, {c[0], c[1], c[2]});
      }
    if (p.scale) {  // lo at the left end, hi at the right: the size a colour stands for
      for (int64_t x = 0; x < pw; ++x) {
        colour(p.lo + (p.hi - p.lo) * (pw > 1 ? double(x) / double(pw - 1) : 0.5));
        for (int64_t y = 0; y < bar; ++y) canvas.set(x0 + x, y0 + ph + 3 + y, {c[0], c[1], c[2]});
      }
      canvas.text(x0, y0 + ph + 4 + bar, core::sig3(p.lo), 11, {30, 30, 30}, Canvas::Align::left);
      canvas.text(x0 + pw - 1, y0 + ph + 4 + bar, core::sig3(p.hi), 11, {30, 30, 30}, Canvas::Align::right);
    }
  }
  canvas.write_png(path);
}

}  // namespace tessera::io
