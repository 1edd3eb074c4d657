// An RGB raster for figures made without a display: filled rectangles, lines and text (VTK's
// FreeType renderer with the fonts built into VTK), written as PNG through write_png.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(int64_t width, int64_t height, Rgb background = {255, 255, 255});
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }
  // Pixels outside the canvas are ignored; y runs from the top row down.
  void set(int64_t x, int64_t y, Rgb c);
  Rgb get(int64_t x, int64_t y) const;
  void fill_rect(int64_t x0, int64_t y0, int64_t x1, int64_t y1, Rgb c);  // [x0, x1) × [y0, y1)
  void line(double x0, double y0, double x1, double y1, Rgb c, int thickness = 1);
  enum class Align { left, center, right };
  // Text of `size` pixels whose top edge is at y, anchored at x by `align`; returns its width.
  // Builds without VTK draw no text and return 0.
  int64_t text(int64_t x, int64_t y, const std::string& s, int size = 13, Rgb c = {0, 0, 0}, Align align = Align::left);
  // The width text() would draw `s` in, without drawing it (a legend box sized to its names).
  static int64_t text_width(const std::string& s, int size = 13);
  void write_png(const std::string& path) const;

 private:
  int64_t width_, height_;
  std::vector<uint8_t> rgb_;
};

}  // namespace tessera::io
