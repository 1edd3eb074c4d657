#include "io/canvas.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "io/png.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_VTK
#include <vtkFreeTypeTools.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkStdString.h>
#include <vtkTextProperty.h>
#endif

namespace tessera::io {

Canvas::Canvas(int64_t width, int64_t height, Rgb background) : width_(width), height_(height) {
  if (width < 1 || height < 1) throw Error(cat("canvas: bad size ", width, " x ", height));
  rgb_.resize(static_cast<size_t>(width * height * 3));
  for (size_t i = 0; i < rgb_.size(); i += 3)
    rgb_[i] = background.r, rgb_[i + 1] = background.g, rgb_[i + 2] = background.b;
}

void Canvas::set(int64_t x, int64_t y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = &rgb_[static_cast<size_t>((y * width_ + x) * 3)];
  p[0] = c.r, p[1] = c.g, p[2] = c.b;
}

Rgb Canvas::get(int64_t x, int64_t y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return {};
  const uint8_t* p = &rgb_[static_cast<size_t>((y * width_ + x) * 3)];
  return {p[0], p[1], p[2]};
}

void Canvas::fill_rect(int64_t x0, int64_t y0, int64_t x1, int64_t y1, Rgb c) {
  for (int64_t y = std::max<int64_t>(y0, 0); y < std::min(y1, height_); ++y)
    for (int64_t x = std::max<int64_t>(x0, 0); x < std::min(x1, width_); ++x) set(x, y, c);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c, int thickness) {
  if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1)) return;
  // Steps of at most half a pixel along the longer axis; a square pen of `thickness`.
  const double len = std::max(std::abs(x1 - x0), std::abs(y1 - y0));
  const int64_t n = std::min<int64_t>(static_cast<int64_t>(std::ceil(2 * len)) + 1, 1 << 20);
  const int lo = -(thickness - 1) / 2, hi = thickness / 2;
  for (int64_t k = 0; k <= n; ++k) {
    const double t = n ? static_cast<double>(k) / n : 0;
    const auto x = static_cast<int64_t>(std::lround(x0 + t * (x1 - x0)));
    const auto y = static_cast<int64_t>(std::lround(y0 + t * (y1 - y0)));
    for (int dy = lo; dy <= hi; ++dy)
      for (int dx = lo; dx <= hi; ++dx) set(x + dx, y + dy, c);
  }
}

#if TESSERA_HAVE_VTK
namespace {
// `s` in Arial of `size` pixels and colour `c`, rendered into `image` (RGBA, bottom-up) of
// dims[0] x dims[1] pixels; false for an empty string or one FreeType cannot render.
bool render(const std::string& s, int size, Rgb c, vtkImageData* image, int dims[2]) {
  if (s.empty()) return false;
  vtkNew<vtkTextProperty> prop;
  prop->SetFontFamilyToArial();
  prop->SetFontSize(size);
  prop->SetColor(c.r / 255.0, c.g / 255.0, c.b / 255.0);
  return vtkFreeTypeTools::GetInstance()->RenderString(prop, vtkStdString(s), 72, image, dims);
}
}  // namespace
#endif

int64_t Canvas::text(int64_t x, int64_t y, const std::string& s, int size, Rgb c, Align align) {
#if TESSERA_HAVE_VTK
  vtkNew<vtkImageData> image;
  int dims[2] = {0, 0};
  if (!render(s, size, c, image, dims)) return 0;
  int ext[6];
  image->GetExtent(ext);
  const int64_t left = align == Align::left ? x : align == Align::center ? x - dims[0] / 2 : x - dims[0];
  // The rendered image runs bottom-up with an alpha channel: blend it onto the canvas.
  for (int j = 0; j < dims[1]; ++j)
    for (int i = 0; i < dims[0]; ++i) {
      const auto* px = static_cast<const uint8_t*>(image->GetScalarPointer(ext[0] + i, ext[2] + j, 0));
      const double a = px[3] / 255.0;
      if (a <= 0) continue;
      const int64_t cx = left + i, cy = y + (dims[1] - 1 - j);
      const Rgb under = get(cx, cy);
      auto mix = [a](uint8_t top, uint8_t bottom) {
        return static_cast<uint8_t>(std::lround(a * top + (1 - a) * bottom));
      };
      set(cx, cy, {mix(px[0], under.r), mix(px[1], under.g), mix(px[2], under.b)});
    }
  return dims[0];
#else
  (void)x, (void)y, (void)s, (void)size, (void)c, (void)align;
  return 0;
#endif
}

int64_t Canvas::text_width(const std::string& s, int size) {
#if TESSERA_HAVE_VTK
  vtkNew<vtkImageData> image;
  int dims[2] = {0, 0};
  return render(s, size, {}, image, dims) ? dims[0] : 0;
#else
  (void)s, (void)size;
  return 0;
#endif
}

void Canvas::write_png(const std::string& path) const { io::write_png(path, width_, height_, rgb_); }

}  // namespace tessera::io
