#include "io/line_plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "io/canvas.hpp"

namespace tessera::io {
namespace {

const Rgb kPalette[] = {{31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {255, 127, 14}, {148, 103, 189}, {140, 86, 75}};
const Rgb kAxis = {40, 40, 40}, kGrid = {225, 225, 225};

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

// About five round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi].
std::vector<double> linear_ticks(double lo, double hi) {
  const double raw = (hi - lo) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
  std::vector<double> t;
  if (!(step > 0) || !std::isfinite(lo) || !std::isfinite(hi)) return t;
  // Counted, not accumulated: where the step is below the spacing of doubles at the values (a
  // range of ±0.5 around 3e15), v += step never moved and the ticks filled the memory.
  const double first = std::ceil(lo / step);
  for (int k = 0; k < 20; ++k) {
    const double v = (first + k) * step;
    if (v > hi + 1e-9 * step) break;
    if (t.empty() || v > t.back()) t.push_back(v);
  }
  return t;
}

// A point that can be drawn: finite, and positive on a logarithmic y axis.
bool usable(const LinePlot& p, double x, double y) {
  return std::isfinite(x) && std::isfinite(y) && (!p.log_y || y > 0);
}

// The y range of the bulk of a linear axis's values (LinePlot::clip_outliers): [lo, hi] and the
// number of values outside it with their extremes; `off` 0 where nothing is far out.
struct Bulk {
  double lo = 0, hi = 0, off_min = 0, off_max = 0;
  int64_t off = 0;
};

Bulk bulk_of(std::vector<double> y) {
  Bulk b;
  if (y.size() <= 20) return b;
  const auto at = [&](double q) {
    const size_t k = static_cast<size_t>(q * static_cast<double>(y.size() - 1));
    std::nth_element(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(k), y.end());
    return y[k];
  };
  const double p1 = at(0.01), p99 = at(0.99), span = p99 - p1;
  const double fence_lo = p1 - 3 * span, fence_hi = p99 + 3 * span;
  b.lo = 1e300, b.hi = -1e300, b.off_min = 1e300, b.off_max = -1e300;
  for (double v : y)
    if (v < fence_lo || v > fence_hi)
      ++b.off, b.off_min = std::min(b.off_min, v), b.off_max = std::max(b.off_max, v);
    else
      b.lo = std::min(b.lo, v), b.hi = std::max(b.hi, v);
  return b;
}

// The part of segment (x0, y0)-(x1, y1) with y in [top, bottom]; false where none is.
bool clip_to_rows(double& x0, double& y0, double& x1, double& y1, double top, double bottom) {
  if ((y0 < top && y1 < top) || (y0 > bottom && y1 > bottom)) return false;
  const auto cut = [&](double& xa, double& ya, double xb, double yb) {
    const double edge = ya < top ? top : ya > bottom ? bottom : ya;
    if (edge != ya) xa += (xb - xa) * (edge - ya) / (yb - ya), ya = edge;
  };
  cut(x0, y0, x1, y1);
  cut(x1, y1, x0, y0);
  return true;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double map(double v) const { return ((log ? std::log10(v) : v) - lo) / (hi - lo); }
};

// A line through more points than its panel has pixel columns draws what the lowest and highest
// point of each column's share of them draws: those two per share, in their order (a training of
// 10^6 steps took 19 s to draw its loss.csv; a soak review, 2026-12-06). Points the panel skips
// (non-finite, y <= 0 on a log axis) are skipped here too. The axis, and the count of values off it,
// come from every point.
PlotSeries envelope(const LinePlot& p, const PlotSeries& s, size_t shares) {
  PlotSeries e{s.name, {}, {}, s.markers};
  const size_t n = std::min(s.x.size(), s.y.size());
  for (size_t b = 0; b < shares; ++b) {
    const size_t lo = n * b / shares, hi = n * (b + 1) / shares;
    size_t low = hi, high = hi;
    for (size_t i = lo; i < hi; ++i) {
      if (!usable(p, s.x[i], s.y[i])) continue;
      if (low == hi || s.y[i] < s.y[low]) low = i;
      if (high == hi || s.y[i] > s.y[high]) high = i;
    }
    if (low == hi) continue;  // nothing drawable in this share
    const size_t first = std::min(low, high), second = std::max(low, high);
    e.x.push_back(s.x[first]), e.y.push_back(s.y[first]);
    if (second != first) e.x.push_back(s.x[second]), e.y.push_back(s.y[second]);
  }
  return e;
}

void draw_panel(Canvas& c, int64_t x0, int64_t w, int64_t h, const LinePlot& p) {
  const int64_t left = x0 + 68, right = x0 + w - 14, bottom = h - 44;
  int64_t top = 30;
  Axis ax, ay;
  ay.log = p.log_y;
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  const bool clip = p.clip_outliers && !p.log_y;
  std::vector<double> ys;  // every drawable y, where the axis may leave outliers off
  for (const PlotSeries& s : p.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (usable(p, s.x[i], s.y[i])) {
        const double y = p.log_y ? std::log10(s.y[i]) : s.y[i];
        xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
        ymin = std::min(ymin, y), ymax = std::max(ymax, y);
        if (clip) ys.push_back(y);
      }
  if (xmin > xmax) {
    c.text(x0 + w / 2, 6, p.title, 14, kAxis, Canvas::Align::center);
    return;
  }
  std::string note;  // values off the axis, in a line of its own under the title
  if (const Bulk b = bulk_of(std::move(ys)); b.off > 0) {
    ymin = b.lo, ymax = b.hi;
    note = cat(core::counted(b.off, "value", "values"), " off the axis: ", tick_label(b.off_min),
               b.off > 1 ? cat(" to ", tick_label(b.off_max)) : "");
  }
  c.text(x0 + w / 2, note.empty() ? 6 : 2, p.title, 14, kAxis, Canvas::Align::center);
  if (!note.empty()) {
    c.text(x0 + w / 2, 19, note, 11, kAxis, Canvas::Align::center);
    top += 12;
  }
  // A single value gets a range around it of its own scale (±0.5 did not reach the next double
  // above 1e16).
  const auto widen = [](double& lo, double& hi) {
    const double half = 0.5 * std::max(1.0, std::abs(hi));
    lo -= half, hi += half;
  };
  if (xmax - xmin < 1e-12 * std::max(1.0, std::abs(xmax))) widen(xmin, xmax);
  if (ymax - ymin < 1e-12 * std::max(1.0, std::abs(ymax))) widen(ymin, ymax);
  ax.lo = xmin, ax.hi = xmax;
  const double pad = 0.04 * (ymax - ymin);
  ay.lo = ymin - pad, ay.hi = ymax + pad;
  auto px = [&](double x) { return left + ax.map(x) * (right - left); };
  auto py = [&](double y) { return bottom - ay.map(y) * (bottom - top); };
  // Grid and tick labels.
  for (double t : linear_ticks(ax.lo, ax.hi)) {
    c.line(px(t), top, px(t), bottom, kGrid);
    c.text(static_cast<int64_t>(px(t)), bottom + 5, tick_label(t), 11, kAxis, Canvas::Align::center);
  }
  std::vector<double> yt;
  if (p.log_y) {
    for (double e = std::ceil(ay.lo); e <= ay.hi; ++e)
      for (double m : {1.0, 2.0, 5.0})
        if (const double v = std::log10(m) + e; v >= ay.lo && v <= ay.hi && (m == 1 || ay.hi - ay.lo < 2))
          yt.push_back(std::pow(10.0, v));
    if (yt.size() < 2) {  // less than a decade: round values of the data's own scale
      yt.clear();
      for (double t : linear_ticks(std::pow(10.0, ay.lo), std::pow(10.0, ay.hi)))
        if (t > 0) yt.push_back(t);
    }
  } else {
    yt = linear_ticks(ay.lo, ay.hi);
  }
  for (double t : yt) {
    c.line(left, py(t), right, py(t), kGrid);
    c.text(left - 6, static_cast<int64_t>(py(t)) - 6, tick_label(t), 11, kAxis, Canvas::Align::right);
  }
  c.line(left, top, left, bottom, kAxis);
  c.line(left, bottom, right, bottom, kAxis);
  c.text((left + right) / 2, bottom + 22, p.x_label, 12, kAxis, Canvas::Align::center);
  c.text(x0 + 4, top - 18, p.y_label, 12, kAxis);
  // Curves (each series' drawable points, in pixels), then the legend on a white box in the
  // corner where it hides the fewest of them.
  std::vector<std::vector<std::array<double, 2>>> curves(p.series.size());
  for (size_t k = 0; k < p.series.size(); ++k) {
    const PlotSeries& given = p.series[k];
    std::optional<PlotSeries> thinned;
    if (!given.markers && std::min(given.x.size(), given.y.size()) > size_t(4 * w))
      thinned = envelope(p, given, size_t(2 * w));
    const PlotSeries& s = thinned ? *thinned : given;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (usable(p, s.x[i], s.y[i])) curves[k].push_back({px(s.x[i]), py(s.y[i])});
  }
  auto draw_curves = [&] {
    for (size_t k = 0; k < curves.size(); ++k) {
      const Rgb col = kPalette[k % std::size(kPalette)];
      const int64_t r = p.series[k].markers ? 2 : 1;
      for (size_t i = 0; i < curves[k].size(); ++i) {
        const auto [X, Y] = curves[k][i];
        // Only within the plot's rows: a value off the axis (clip_outliers) leaves it at its edge.
        if (i > 0 && !p.series[k].markers) {
          double xa = curves[k][i - 1][0], ya = curves[k][i - 1][1], xb = X, yb = Y;
          if (clip_to_rows(xa, ya, xb, yb, top, bottom)) c.line(xa, ya, xb, yb, col, 2);
        } else if (Y >= top && Y <= bottom) {
          c.fill_rect(static_cast<int64_t>(X) - r, static_cast<int64_t>(Y) - r, static_cast<int64_t>(X) + r + 1,
                      static_cast<int64_t>(Y) + r + 1, col);
        }
      }
    }
  };
  draw_curves();
  int64_t named = 0;
  for (const PlotSeries& s : p.series) named += !s.name.empty();
  if (!named) return;
  // Corners in order of preference (upper right first), as the box's top-left pixel; each scored by
  // the curve samples (about one per pixel along every segment) that fall inside it.
  const int64_t box_w = 156, box_h = 8 + 16 * named;
  const int64_t corners[4][2] = {
      {right - box_w, top + 1}, {left + 1, top + 1}, {right - box_w, bottom - box_h}, {left + 1, bottom - box_h}};
  int64_t hidden[4] = {0, 0, 0, 0};
  auto count = [&](double sx, double sy) {
    for (int k = 0; k < 4; ++k)
      hidden[k] +=
          sx >= corners[k][0] && sx <= corners[k][0] + box_w && sy >= corners[k][1] && sy <= corners[k][1] + box_h;
  };
  for (size_t k = 0; k < curves.size(); ++k) {
    const auto& curve = curves[k];
    if (!curve.empty()) count(curve[0][0], curve[0][1]);
    for (size_t i = 1; i < curve.size(); ++i) {
      if (p.series[k].markers) {
        count(curve[i][0], curve[i][1]);
        continue;
      }
      const auto [lx, ly] = curve[i - 1];
      const auto [X, Y] = curve[i];
      const int64_t n = std::max<int64_t>(1, std::llround(std::hypot(X - lx, Y - ly)));
      for (int64_t j = 1; j <= n; ++j)
        count(lx + double(j) / double(n) * (X - lx), ly + double(j) / double(n) * (Y - ly));
    }
  }
  const int corner = int(std::min_element(hidden, hidden + 4) - hidden);  // the first of equals
  const int64_t box_x = corners[corner][0], box_y = corners[corner][1];
  c.fill_rect(box_x, box_y, box_x + box_w - 1, box_y + box_h - 1, {255, 255, 255});
  int64_t legend_y = box_y + 3;
  for (size_t k = 0; k < p.series.size(); ++k) {
    if (p.series[k].name.empty()) continue;
    const Rgb col = kPalette[k % std::size(kPalette)];
    if (p.series[k].markers)
      c.fill_rect(box_x + 14, legend_y + 5, box_x + 18, legend_y + 9, col);
    else
      c.line(box_x + 6, legend_y + 7, box_x + 26, legend_y + 7, col, 2);
    c.text(box_x + 32, legend_y, p.series[k].name, 11, kAxis);
    legend_y += 16;
  }
  // Where every corner covers data, the data is drawn again over the box: a curve crossing the
  // legend's text is better than a stretch of curve that cannot be seen.
  if (hidden[corner] > 0) draw_curves();
}

}  // namespace

void write_line_plots_png(const std::string& path, const std::vector<LinePlot>& plots, int64_t panel_width,
                          int64_t panel_height) {
  bool any = false;
  for (const LinePlot& p : plots)
    for (const PlotSeries& s : p.series)
      for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) any = any || usable(p, s.x[i], s.y[i]);
  if (!any) throw Error(cat(path, ": nothing to plot (no finite points)"));
  Canvas c(panel_width * static_cast<int64_t>(plots.size()), panel_height);
  for (size_t k = 0; k < plots.size(); ++k)
    draw_panel(c, static_cast<int64_t>(k) * panel_width, panel_width, panel_height, plots[k]);
  c.write_png(path);
}

}  // namespace tessera::io
