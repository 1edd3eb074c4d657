// Pictures without a display: mesh fields sampled on an image against an independent
// point-in-triangle loop and the exact values of a linear field; line plots and panel grids read
// back with VTK's PNG reader.
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>
#include <vtkSmartPointer.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "io/canvas.hpp"
#include "io/line_plot.hpp"
#include "io/mesh_image.hpp"
#include "io/png.hpp"
#include "tests/mesh_fixtures.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;
static const std::string pictures_out = tessera::test::test_out() + "/pictures";

namespace {

// Barycentric coordinates of p in triangle (a, b, c).
std::array<double, 3> barycentric(const double* a, const double* b, const double* c, double x, double y) {
  const double det = (b[1] - c[1]) * (a[0] - c[0]) + (c[0] - b[0]) * (a[1] - c[1]);
  const double l0 = ((b[1] - c[1]) * (x - c[0]) + (c[0] - b[0]) * (y - c[1])) / det;
  const double l1 = ((c[1] - a[1]) * (x - c[0]) + (a[0] - c[0]) * (y - c[1])) / det;
  return {l0, l1, 1 - l0 - l1};
}

vtkSmartPointer<vtkImageData> read_png(const std::string& path) {
  vtkNew<vtkPNGReader> r;
  r->SetFileName(path.c_str());
  r->Update();
  return r->GetOutput();
}

}  // namespace

TEST_CASE("a mesh field sampled on an image: linear fields exact, holes NaN", "[pictures][vtk]") {
  mesh::Mesh m = test::irregular_mesh(8, 5, 3);  // [0, 8] x [0, 5] with perturbed interior nodes
  // Drop the triangles around the centre: a hole in the picture.
  std::vector<int64_t> kept;
  for (int64_t c = 0; c < m.num_cells(); ++c) {
    double cx = 0, cy = 0;
    for (int k = 0; k < 3; ++k)
      cx += m.coords[2 * m.cells[3 * c + k]] / 3, cy += m.coords[2 * m.cells[3 * c + k] + 1] / 3;
    if (std::hypot(cx - 4, cy - 2.5) > 1.3) kept.insert(kept.end(), &m.cells[3 * c], &m.cells[3 * c] + 3);
  }
  REQUIRE(kept.size() < m.cells.size());
  m.cells = kept;
  std::vector<double> f(static_cast<size_t>(m.num_nodes()));
  for (int64_t i = 0; i < m.num_nodes(); ++i) f[i] = 2 * m.coords[2 * i] - 3 * m.coords[2 * i + 1] + 1;
  const io::MeshImageSampler s(m, 160);
  CHECK(s.width() == 160);
  CHECK(s.height() == 100);  // 160 * 5 / 8
  const io::ImagePanel p = s.sample(f);
  const double pixel = 8.0 / 160;
  int64_t inside = 0, holes = 0;
  for (int64_t row = 0; row < p.height; ++row)
    for (int64_t col = 0; col < p.width; ++col) {
      const double x = (col + 0.5) * pixel, y = 5 - (row + 0.5) * pixel, v = p.values[row * p.width + col];
      // Independent test: is the pixel centre inside a kept triangle (with a margin)?
      int where = 0;  // 1 inside, -1 clearly outside, 0 on an edge
      bool near = false;
      for (int64_t c = 0; c < m.num_cells() && where != 1; ++c) {
        const int64_t* t = &m.cells[3 * c];
        const auto l = barycentric(&m.coords[2 * t[0]], &m.coords[2 * t[1]], &m.coords[2 * t[2]], x, y);
        const double lo = std::min({l[0], l[1], l[2]});
        if (lo > 1e-6) where = 1;
        near = near || lo > -1e-6;
      }
      if (where == 0 && !near) where = -1;
      INFO("pixel " << col << ", " << row);
      if (where == 1) {
        ++inside;
        CHECK(std::abs(v - (2 * x - 3 * y + 1)) < 1e-9);
      } else if (where == -1) {
        ++holes;
        CHECK(std::isnan(v));
      }
    }
  CHECK(inside > 10000);
  CHECK(holes > 500);
  CHECK_THROWS_AS(s.sample({1.0, 2.0}), Error);
  io::ImagePanel q = p;
  q.sequential = true;
  q.lo = -15, q.hi = 17;
  q.title = "2x - 3y + 1";
  std::filesystem::create_directories(pictures_out);
  io::write_panels_png(pictures_out + "/field.png", {q, q}, 2);
  const auto img = read_png(pictures_out + "/field.png");
  int dims[3];
  img->GetDimensions(dims);
  CHECK(dims[0] == 2 * 160 + 6);
  CHECK(dims[1] == 100 + 20);  // a title band above the panels
  // With colour bars: a band below each panel whose bar runs from lo's colour to hi's.
  q.scale = true;
  io::write_panels_png(pictures_out + "/field_scaled.png", {q, q}, 2);
  const auto scaled = read_png(pictures_out + "/field_scaled.png");
  scaled->GetDimensions(dims);
  CHECK(dims[0] == 2 * 160 + 6);
  REQUIRE(dims[1] == 100 + 20 + 25);
  // VTK's rows run from the bottom: the bar is 3 to 9 pixels below the panel's last row.
  const int bar_row = dims[1] - 1 - (20 + 100 + 5);
  uint8_t lo[3], hi[3];
  io::sequential_rgb(q.lo, q.lo, q.hi, lo);
  io::sequential_rgb(q.hi, q.lo, q.hi, hi);
  const auto* left = static_cast<const uint8_t*>(scaled->GetScalarPointer(0, bar_row, 0));
  const auto* right = static_cast<const uint8_t*>(scaled->GetScalarPointer(159, bar_row, 0));
  CHECK((left[0] == lo[0] && left[1] == lo[1] && left[2] == lo[2]));
  CHECK((right[0] == hi[0] && right[1] == hi[1] && right[2] == hi[2]));
}

TEST_CASE("line plots: panels side by side, curves in their colours, text drawn", "[pictures][vtk]") {
  std::filesystem::create_directories(pictures_out);
  io::PlotSeries a{"loss", {}, {}}, b{"", {}, {}};
  for (int i = 1; i <= 100; ++i) {
    a.x.push_back(i), a.y.push_back(10.0 / i);
    b.x.push_back(i), b.y.push_back(i % 10 == 0 ? std::nan("") : 0.5);  // gaps are skipped
  }
  io::write_line_plots_png(pictures_out + "/plot.png",
                           {{"loss", "step", "loss", true, {a}}, {"flat", "step", "", false, {b}}});
  const auto img = read_png(pictures_out + "/plot.png");
  int dims[3];
  img->GetDimensions(dims);
  REQUIRE(dims[0] == 960);
  REQUIRE(dims[1] == 340);
  int64_t blue = 0, red = 0, dark = 0;
  for (int y = 0; y < dims[1]; ++y)
    for (int x = 0; x < dims[0]; ++x) {
      const auto* px = static_cast<const uint8_t*>(img->GetScalarPointer(x, y, 0));
      blue += px[0] == 31 && px[1] == 119 && px[2] == 180;  // the first series colour
      dark += px[0] < 90 && px[1] < 90 && px[2] < 90;       // axes and text
      red += px[0] == 214 && px[1] == 39 && px[2] == 40;
    }
  CHECK(blue > 800);  // both panels draw their first series in blue
  CHECK(red == 0);    // there is no second series
  CHECK(dark > 1000);
  CHECK_THROWS_AS(
      io::write_line_plots_png(pictures_out + "/none.png", {{"t", "x", "y", true, {{"s", {1, 2}, {-1, 0}}}}}), Error);
  // One value far from 1 (a steady run's drag of 3e15, a step count of 1e17): its axis is drawn
  // (a range of ±0.5 around it had ticks below the spacing of doubles, added until memory ran out).
  for (const double v : {3e15, 1e17, -2e300}) {
    INFO("value " << v);
    io::write_line_plots_png(pictures_out + "/one_value.png", {{"t", "x", "y", false, {{"s", {v}, {v}}}}});
    const auto one = read_png(pictures_out + "/one_value.png");
    int size[3];
    one->GetDimensions(size);
    REQUIRE(size[0] > 0);
    // The axes, tick labels and title in dark pixels, as in the panels above; the point itself,
    // in the first series colour.
    int64_t axis = 0, point = 0;
    for (int y = 0; y < size[1]; ++y)
      for (int x = 0; x < size[0]; ++x) {
        const auto* px = static_cast<const uint8_t*>(one->GetScalarPointer(x, y, 0));
        axis += px[0] < 90 && px[1] < 90 && px[2] < 90;
        point += px[0] == 31 && px[1] == 119 && px[2] == 180;
      }
    CHECK(axis > 500);
    CHECK(point > 0);
  }
  // The legend goes where it hides no curve: a line rising into the upper right corner keeps it
  // there (its pixels under where the legend box used to be stay blue), and the box moves to the
  // upper left, which the line leaves empty.
  io::PlotSeries rising{"rising", {}, {}}, level{"level", {}, {}};
  for (int i = 0; i <= 100; ++i)
    rising.x.push_back(i), rising.y.push_back(i), level.x.push_back(i), level.y.push_back(5);
  io::write_line_plots_png(pictures_out + "/legend.png", {{"t", "x", "y", false, {rising, level}}});
  const auto leg = read_png(pictures_out + "/legend.png");
  // VTK's PNG rows run bottom-up: pixel row y of the canvas is image row 339 - y.
  auto count_blue = [&](int x0, int x1, int y0, int y1) {
    int64_t n = 0;
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const auto* q = static_cast<const uint8_t*>(leg->GetScalarPointer(x, 339 - y, 0));
        n += q[0] == 31 && q[1] == 119 && q[2] == 180;
      }
    return n;
  };
  // The curve where the old box was, right of where its blue sample line was drawn (x < 337).
  CHECK(count_blue(466 - 100, 465, 31, 31 + 40) > 20);
  CHECK(count_blue(69, 69 + 40, 31, 31 + 40) > 0);  // the legend's blue sample line, upper left
  CHECK(!std::filesystem::exists(pictures_out + "/none.png"));
  // Outliers off the axis: a drag curve oscillating between 3.0 and 3.2 after an impulsive start
  // whose first two values are 75 and -31. Clipped, the oscillation spans most of the plot's
  // rows; drawn whole, it is a flat line of a few rows. Nothing is drawn above or below the plot.
  io::PlotSeries drag{"", {}, {}};
  for (int i = 0; i < 400; ++i)
    drag.x.push_back(0.01 * i), drag.y.push_back(i == 0 ? 75.0 : i == 1 ? -31.0 : 3.1 + 0.1 * std::sin(0.3 * i));
  auto blue_rows = [&](const std::string& path) {
    const auto png = read_png(path);
    int size[3];
    png->GetDimensions(size);
    std::vector<int> rows;
    for (int y = 0; y < size[1]; ++y)
      for (int x = 0; x < size[0]; ++x) {
        const auto* q = static_cast<const uint8_t*>(png->GetScalarPointer(x, size[1] - 1 - y, 0));
        if (q[0] == 31 && q[1] == 119 && q[2] == 180) {
          rows.push_back(y);
          break;
        }
      }
    return rows;
  };
  // Blue rows over the last three quarters of the time axis (after the start's spike).
  auto late_rows = [&](const std::string& path) {
    const auto png = read_png(path);
    int size[3];
    png->GetDimensions(size);
    int lo = size[1], hi = -1;
    for (int y = 0; y < size[1]; ++y)
      for (int x = 68 + (size[0] - 82) / 4; x < size[0]; ++x) {
        const auto* q = static_cast<const uint8_t*>(png->GetScalarPointer(x, size[1] - 1 - y, 0));
        if (q[0] == 31 && q[1] == 119 && q[2] == 180) lo = std::min(lo, y), hi = std::max(hi, y);
      }
    return hi - lo + 1;
  };
  io::LinePlot whole{"drag", "time", "c_D", false, {drag}}, clipped = whole;
  clipped.clip_outliers = true;
  io::write_line_plots_png(pictures_out + "/whole.png", {whole});
  io::write_line_plots_png(pictures_out + "/clipped.png", {clipped});
  INFO("oscillation height: whole " << late_rows(pictures_out + "/whole.png") << " rows, clipped "
                                    << late_rows(pictures_out + "/clipped.png"));
  CHECK(late_rows(pictures_out + "/whole.png") < 12);
  CHECK(late_rows(pictures_out + "/clipped.png") > 200);  // of the plot's 340 - 30 - 44 = 266 rows
  const std::vector<int> rows = blue_rows(pictures_out + "/clipped.png");
  REQUIRE(!rows.empty());
  CHECK(rows.front() >= 30);  // the plot's top row
  CHECK(rows.back() <= 297);  // its bottom row, 296, and the 2-pixel line's second row
  // Twenty values or fewer are never clipped (a spike of a short curve is data).
  io::LinePlot short_curve{"drag", "time", "c_D", false, {{"", {0, 1, 2, 3}, {75, 3.0, 3.1, 3.2}}}};
  short_curve.clip_outliers = true;
  io::write_line_plots_png(pictures_out + "/short.png", {short_curve});
  CHECK(blue_rows(pictures_out + "/short.png").size() > 200);
  // Text: FreeType renders glyphs (dark pixels) without a display.
  io::Canvas c(200, 40);
  CHECK(c.text(5, 5, "tessera", 20) > 40);
  int64_t ink = 0;
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 200; ++x) ink += c.get(x, y).r < 128;
  CHECK(ink > 50);
}

// A series of more points than the panel has columns is drawn through each column share's lowest
// and highest point: a million points draw in well under a second (19 s before, for a 10^6-step
// loss.csv), and reach the rows that 1,500 points of the same curve, drawn whole, reach: a single
// spike among them at the top, the curve's lows at the bottom.
TEST_CASE("line plots: a million points draw as their envelope, spikes kept", "[pictures][vtk]") {
  std::filesystem::create_directories(pictures_out);
  auto curve = [](double x) { return 0.05 + 0.05 * std::sin(0.001 * x); };
  io::PlotSeries many{"", {}, {}}, few{"", {}, {}};
  const int n = 1000000;
  for (int i = 0; i < n; ++i) many.x.push_back(i), many.y.push_back(i == 654321 ? 1.0 : curve(i));
  for (int i = 0; i < 1500; ++i) {
    const double x = std::round(i * (n - 1) / 1499.0);
    few.x.push_back(x), few.y.push_back(curve(x));
    if (i == 980) few.x.push_back(654321), few.y.push_back(1.0);  // between the x of points 980 and 981
  }
  const auto start = std::chrono::steady_clock::now();
  io::write_line_plots_png(pictures_out + "/many.png", {{"curve", "step", "", false, {many}}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("drawn in " << seconds << " s");
  CHECK(seconds < 10);
  io::write_line_plots_png(pictures_out + "/few.png", {{"curve", "step", "", false, {few}}});
  // Canvas rows (from the top) that hold the series colour: the topmost and the lowest.
  auto extent = [&](const std::string& path) {
    const auto png = read_png(path);
    int size[3];
    png->GetDimensions(size);
    int top = size[1], bottom = -1;
    for (int y = 0; y < size[1]; ++y)
      for (int x = 0; x < size[0]; ++x) {
        const auto* q = static_cast<const uint8_t*>(png->GetScalarPointer(x, size[1] - 1 - y, 0));
        if (q[0] == 31 && q[1] == 119 && q[2] == 180) top = std::min(top, y), bottom = std::max(bottom, y);
      }
    return std::array<int, 2>{top, bottom};
  };
  const auto thinned = extent(pictures_out + "/many.png"), whole = extent(pictures_out + "/few.png");
  INFO("rows " << thinned[0] << " to " << thinned[1] << ", drawn whole " << whole[0] << " to " << whole[1]);
  CHECK(std::abs(thinned[0] - whole[0]) <= 1);
  CHECK(std::abs(thinned[1] - whole[1]) <= 1);
  CHECK(whole[1] - whole[0] > 200);  // the spike's column spans the plot
}

// Found by a review of the pictures (2026-12-07): the lower part of a log axis had no labels, a
// model's curve hid under its persistence baseline, the legend covered the curves, an axis of
// steps had ticks at 1.5 and 2.5.
TEST_CASE("line plots: log ticks over all the data, dashed baselines, the legend above the curves", "[pictures][vtk]") {
  std::filesystem::create_directories(pictures_out);
  const io::Rgb grid{225, 225, 225}, blue{31, 119, 180}, red{214, 39, 40};
  struct Png {
    vtkSmartPointer<vtkImageData> image;
    int size[3] = {0, 0, 0};
    // Canvas pixel (x, y from the top row): VTK's rows run bottom-up.
    bool is(int x, int y, io::Rgb c) const {
      const auto* q = static_cast<const uint8_t*>(image->GetScalarPointer(x, size[1] - 1 - y, 0));
      return q[0] == c.r && q[1] == c.g && q[2] == c.b;
    }
  };
  auto load = [&](const std::string& name) {
    Png png{read_png(pictures_out + "/" + name)};
    png.image->GetDimensions(png.size);
    return png;
  };
  // Errors of 0.0012 to 0.03 on a log axis (1.4 decades): grid lines (ticks) in the lower half of
  // the plot's rows too (the lowest was 0.01, at 65% of its height). Column 100 crosses only grid
  // lines and the curve; the plot's rows are 44 .. 296 (a y label).
  io::PlotSeries errors{"", {}, {}};
  for (int i = 0; i <= 50; ++i) errors.x.push_back(i), errors.y.push_back(0.0012 * std::pow(25.0, i / 50.0));
  io::write_line_plots_png(pictures_out + "/log_ticks.png", {{"errors", "step", "RMSE", true, {errors}}});
  const Png log_png = load("log_ticks.png");
  int low_grid = 0;
  for (int y = 170; y < 296; ++y) low_grid += log_png.is(100, y, grid);
  CHECK(low_grid >= 2);  // 0.002 and 0.005
  // Over more than two decades (0.0026 to 0.7): powers of ten, and 2 and 5 times them in the partial
  // decades at the ends, so 0.005 below the lowest power, 0.01 (at 26% of the height).
  io::PlotSeries wide{"", {}, {}};
  for (int i = 0; i <= 50; ++i) wide.x.push_back(i), wide.y.push_back(0.0026 * std::pow(0.7 / 0.0026, i / 50.0));
  io::write_line_plots_png(pictures_out + "/log_ticks_wide.png", {{"errors", "step", "RMSE", true, {wide}}});
  const Png wide_png = load("log_ticks_wide.png");
  int lowest_grid = 0;
  for (int y = 250; y < 296; ++y) lowest_grid += wide_png.is(100, y, grid);
  CHECK(lowest_grid >= 1);
  // A dashed baseline drawn over the model's curve, point for point: the model shows through.
  io::PlotSeries model{"model", {}, {}}, baseline{"persistence", {}, {}};
  for (int i = 0; i <= 100; ++i) model.x.push_back(i), model.y.push_back(0.01 * i);
  baseline = model, baseline.name = "persistence", baseline.dashed = true;
  io::write_line_plots_png(pictures_out + "/dashed.png", {{"t", "step", "", false, {model, baseline}}});
  const Png dashed = load("dashed.png");
  int64_t blues = 0, reds = 0;
  for (int y = 0; y < dashed.size[1]; ++y)
    for (int x = 0; x < dashed.size[0]; ++x) blues += dashed.is(x, y, blue), reds += dashed.is(x, y, red);
  INFO("model pixels " << blues << ", baseline pixels " << reds);
  CHECK(blues > reds / 4);
  CHECK(reds > 100);
  // Curves in every corner (levels at the top and the bottom of their range): the axis reaches
  // higher, and the upper curve runs below the legend's strip (the box is 40 rows tall under
  // the y label's line, from row 45), where it ran at row 53, under the legend's names.
  io::PlotSeries high{"high", {}, {}}, low{"low", {}, {}};
  for (int i = 0; i <= 100; ++i) high.x.push_back(i), high.y.push_back(1), low.x.push_back(i), low.y.push_back(0);
  io::write_line_plots_png(pictures_out + "/legend_strip.png", {{"t", "step", "y", false, {high, low}}});
  const Png strip = load("legend_strip.png");
  int first_blue = strip.size[1];
  for (int y = 0; y < strip.size[1] && first_blue == strip.size[1]; ++y)
    for (int x = 70; x < 300; ++x)  // left of the legend box in the upper right corner
      if (strip.is(x, y, blue)) first_blue = y;
  CHECK(first_blue > 45 + 40);
  // Steps 1 to 3: vertical grid lines at the whole steps 2 and 3 only (1 is the axis itself),
  // where 1.5, 2, 2.5 and 3 were drawn.
  io::write_line_plots_png(pictures_out + "/whole_steps.png", {{"t", "step", "", false, {{"", {1, 2, 3}, {1, 4, 2}}}}});
  const Png steps = load("whole_steps.png");
  int columns = 0;
  for (int x = 0; x < steps.size[0]; ++x) columns += steps.is(x, 150, grid);
  CHECK(columns == 2);
}

TEST_CASE("tick labels take as many digits as tell the ticks apart", "[pictures]") {
  // A validation loss between 1.9250 and 1.9262 had its ticks labelled "1.925" five times.
  CHECK(io::tick_labels({1.925, 1.9252, 1.9254, 1.9256}) ==
        std::vector<std::string>{"1.925", "1.9252", "1.9254", "1.9256"});
  CHECK(io::tick_labels({0.001, 0.002, 0.005, 0.01}) == std::vector<std::string>{"0.001", "0.002", "0.005", "0.01"});
  CHECK(io::tick_labels({0, 0.5, 1, 1.5}) == std::vector<std::string>{"0", "0.5", "1", "1.5"});
  CHECK(io::tick_labels({100000, 200000}) == std::vector<std::string>{"100000", "200000"});
  CHECK(io::tick_labels({2e-7, 4e-7}) == std::vector<std::string>{"2e-7", "4e-7"});
  CHECK(io::tick_labels({}).empty());
}
