// PNG images without a display: 8-bit RGB pixels written with VTK's PNG writer, atomically; and a
// diverging colour map for plots of signed fields.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io {

// rgb: width × height × 3 bytes, row-major from the top row. Throws in builds without VTK.
void write_png(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& rgb);
// Blue–white–red: value in [lo, hi] -> RGB (lo blue, middle white, hi red; clamped).
void colormap_rgb(double value, double lo, double hi, uint8_t* rgb);
// Viridis (dark blue, green, yellow) for magnitudes: value in [lo, hi] -> RGB (clamped).
void sequential_rgb(double value, double lo, double hi, uint8_t* rgb);

// One panel of a plot: width × height values, row-major from the top row, coloured over [lo, hi]
// with colormap_rgb (or sequential_rgb); NaN values (outside a domain) are drawn light grey.
struct ImagePanel {
  std::vector<double> values;
  int64_t width = 0, height = 0;
  double lo = -1, hi = 1;
  bool sequential = false;
  std::string title;   // drawn above the panel when any panel has one
  bool scale = false;  // a colour bar under the panel, labelled with lo and hi
};
// Panels of one size in a grid of `columns` (filled row by row), `gap` white pixels apart, each
// value drawn as a zoom_x × zoom_y block: one PNG of several fields without a display.
void write_panels_png(const std::string& path, const std::vector<ImagePanel>& panels, int64_t columns,
                      int64_t zoom_x = 1, int64_t zoom_y = 1, int64_t gap = 6);

}  // namespace tessera::io
