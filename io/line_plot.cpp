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

// Whole numbers below 10^7 in full (a step axis read "2e+05"); others in `digits` (4 unless more
// are needed, tick_labels) significant digits with a short exponent ("1.35e5", "2e-3": "1e+05"
// beside "1000" on one log axis).
std::string tick_label(double v, int digits = 4) {
  char buf[32];
  if (std::abs(v) < 1e-12) v = 0;
  if (v == std::round(v) && std::abs(v) < 1e7) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  std::string t = buf;
  if (const size_t e = t.find('e'); e != std::string::npos) {
    size_t digits = e + 1;
    if (t[digits] == '+')
      t.erase(digits, 1);
    else if (t[digits] == '-')
      ++digits;
    while (digits + 1 < t.size() && t[digits] == '0') t.erase(digits, 1);
  }
  return t;
}

// About five round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]; whole
// numbers only where `whole` (an axis of steps had ticks at 1.2, 1.4, ...).
std::vector<double> linear_ticks(double lo, double hi, bool whole = false) {
  const double raw = (hi - lo) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
  if (whole) step = std::max(step, 1.0);
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

// Tick values of a logarithmic axis over [lo, hi] (log10 units): the powers of ten, and 2 and 5
// times them where the axis spans less than two decades, from the decade below lo on (starting at
// the first power of ten above lo left the lower part of a 1.4-decade axis unlabelled: a hybrid's
// errors of 0.0012 to 0.003 below its lowest label, 0.01). Less than two such values: round
// values of the data's own scale.
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  for (double e = std::floor(lo); e <= hi; ++e) {
    // 2 and 5 times the power too in a decade the axis holds only part of, at either end (errors
    // of 0.0026 to 0.0045 under a lowest label of 0.01, on an axis of 1.6 decades and more).
    const bool partial = e < lo || e + 1 > hi;
    for (double m : {1.0, 2.0, 5.0})
      if (const double v = std::log10(m) + e; v >= lo && v <= hi && (m == 1 || hi - lo < 2 || partial))
        t.push_back(std::pow(10.0, v));
  }
  if (t.size() >= 2) return t;
  t.clear();
  for (double v : linear_ticks(std::pow(10.0, lo), std::pow(10.0, hi)))
    if (v > 0) t.push_back(v);
  return t;
}

// Pixels along a polyline's dashes: `on` of every `period`, from where the last segment left off.
void dashed_line(Canvas& c, double xa, double ya, double xb, double yb, Rgb col, double& along) {
  constexpr double period = 12, on = 7;
  const double length = std::hypot(xb - xa, yb - ya);
  double done = 0;
  while (done < length) {
    const double phase = std::fmod(along, period);
    const double piece = std::min(length - done, phase < on ? on - phase : period - phase);
    if (phase < on) {
      const double t0 = done / length, t1 = (done + piece) / length;
      c.line(xa + t0 * (xb - xa), ya + t0 * (yb - ya), xa + t1 * (xb - xa), ya + t1 * (yb - ya), col, 2);
    }
    done += piece, along += piece;
  }
}

void draw_panel(Canvas& c, int64_t x0, int64_t w, int64_t h, const LinePlot& p) {
  const int64_t left = x0 + 68, right = x0 + w - 14, bottom = h - 44;
  int64_t top = 30;
  Axis ax, ay;
  ay.log = p.log_y;
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  const bool clip = p.clip_outliers && !p.log_y;
  bool whole_x = true;     // every x a whole number (steps, epochs): whole-number ticks
  std::vector<double> ys;  // every drawable y, where the axis may leave outliers off
  std::vector<bool> drawn(p.series.size(), false);
  for (size_t k = 0; k < p.series.size(); ++k) {
    const PlotSeries& s = p.series[k];
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (usable(p, s.x[i], s.y[i])) {
        const double y = p.log_y ? std::log10(s.y[i]) : s.y[i];
        xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
        ymin = std::min(ymin, y), ymax = std::max(ymax, y);
        whole_x = whole_x && s.x[i] == std::round(s.x[i]);
        drawn[k] = true;
        if (clip) ys.push_back(y);
      }
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
  // The y axis's label on a line of its own above the axis (on the title's line it ran into a
  // long title: "RMSE over all steps / persistence" into "hybrid rollout: error against cost").
  if (!p.y_label.empty()) top += 14;
  // A single value gets a range around it of its own scale: ±half its size (±0.5 did not reach
  // the next double above 1e16, and made a constant accuracy of 0.067 an axis of -0.43 to 0.57).
  const auto widen = [](double& lo, double& hi) {
    double half = 0.5 * std::max(std::abs(lo), std::abs(hi));
    if (!(lo - half < hi + half)) half = 0.5;  // zero, or too small to widen (a subnormal value)
    lo -= half, hi += half;
  };
  if (xmax - xmin < 1e-12 * std::max(1.0, std::abs(xmax))) widen(xmin, xmax);
  if (ymax - ymin < 1e-12 * std::max(1.0, std::abs(ymax))) widen(ymin, ymax);
  ax.lo = xmin, ax.hi = xmax;
  const double pad = 0.04 * (ymax - ymin);
  ay.lo = ymin - pad, ay.hi = ymax + pad;
  auto px = [&](double x) { return left + ax.map(x) * (right - left); };
  auto py = [&](double y) { return bottom - ay.map(y) * (bottom - top); };
  // The legend: a line per named series, on a white box sized to its names; a series with
  // nothing to draw says so (a legend listed "surrogate steps" of a run that had none).
  std::vector<std::string> names(p.series.size());
  int64_t named = 0, text_w = 0;
  // A name longer than the plot is wide ends in "..." (it ran past the box into the next panel).
  const int64_t widest = right - left - 2 - 40;
  for (size_t k = 0; k < p.series.size(); ++k) {
    if (p.series[k].name.empty()) continue;
    names[k] = drawn[k] ? p.series[k].name : p.series[k].name + " (nothing to draw)";
    int64_t width = Canvas::text_width(names[k], 11);
    if (width > widest) {
      std::string cut = names[k].substr(0, 120);  // a few widths of a panel: enough to cut from
      while (cut.size() > 1 && Canvas::text_width(cut + "...", 11) > widest) cut.pop_back();
      names[k] = cut + "...";
      width = Canvas::text_width(names[k], 11);
    }
    text_w = std::max(text_w, width);
    ++named;
  }
  const int64_t box_w = std::min<int64_t>(std::max<int64_t>(156, 40 + text_w), right - left - 2);
  const int64_t box_h = 8 + 16 * named;
  // Each series' drawable points, in pixels.
  std::vector<std::vector<std::array<double, 2>>> curves(p.series.size());
  auto place_curves = [&] {
    for (size_t k = 0; k < p.series.size(); ++k) {
      curves[k].clear();
      const PlotSeries& given = p.series[k];
      std::optional<PlotSeries> thinned;
      if (!given.markers && std::min(given.x.size(), given.y.size()) > size_t(4 * w))
        thinned = envelope(p, given, size_t(2 * w));
      const PlotSeries& s = thinned ? *thinned : given;
      for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
        if (usable(p, s.x[i], s.y[i])) curves[k].push_back({px(s.x[i]), py(s.y[i])});
    }
  };
  place_curves();
  // Corners in order of preference (upper right first), as the box's top-left pixel; each scored by
  // the curve samples (about one per pixel along every segment) that fall inside it.
  int64_t corners[4][2], hidden[4];
  auto score_corners = [&] {
    const int64_t at[4][2] = {
        {right - box_w, top + 1}, {left + 1, top + 1}, {right - box_w, bottom - box_h}, {left + 1, bottom - box_h}};
    for (int k = 0; k < 4; ++k) corners[k][0] = at[k][0], corners[k][1] = at[k][1], hidden[k] = 0;
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
  };
  if (named) {
    score_corners();
    // Where every corner covers data, the y axis reaches higher, so that the data stays below a
    // strip as tall as the legend (a legend on the curves hid them, or they its names), unless the
    // legend would take more than 40% of the rows; then the curves are drawn over it.
    if (*std::min_element(hidden, hidden + 4) > 0 && box_h + 6 <= 0.4 * double(bottom - top)) {
      ay.hi = ay.lo + (ay.hi - ay.lo) * double(bottom - top) / double(bottom - top - box_h - 6);
      place_curves();
      score_corners();
    }
  }
  // Grid and tick labels.
  const std::vector<double> x_ticks = linear_ticks(ax.lo, ax.hi, whole_x),
                            y_ticks = p.log_y ? log_ticks(ay.lo, ay.hi) : linear_ticks(ay.lo, ay.hi);
  const std::vector<std::string> x_labels = tick_labels(x_ticks), y_labels = tick_labels(y_ticks);
  for (size_t k = 0; k < x_ticks.size(); ++k) {
    c.line(px(x_ticks[k]), top, px(x_ticks[k]), bottom, kGrid);
    c.text(static_cast<int64_t>(px(x_ticks[k])), bottom + 5, x_labels[k], 11, kAxis, Canvas::Align::center);
  }
  for (size_t k = 0; k < y_ticks.size(); ++k) {
    c.line(left, py(y_ticks[k]), right, py(y_ticks[k]), kGrid);
    c.text(left - 6, static_cast<int64_t>(py(y_ticks[k])) - 6, y_labels[k], 11, kAxis, Canvas::Align::right);
  }
  c.line(left, top, left, bottom, kAxis);
  c.line(left, bottom, right, bottom, kAxis);
  c.text((left + right) / 2, bottom + 22, p.x_label, 12, kAxis, Canvas::Align::center);
  c.text(x0 + 4, top - 16, p.y_label, 12, kAxis);
  auto draw_curves = [&] {
    for (size_t k = 0; k < curves.size(); ++k) {
      const Rgb col = kPalette[k % std::size(kPalette)];
      const int64_t r = p.series[k].markers ? 2 : 1;
      double along = 0;  // a dashed line's length so far
      for (size_t i = 0; i < curves[k].size(); ++i) {
        const auto [X, Y] = curves[k][i];
        // Only within the plot's rows: a value off the axis (clip_outliers) leaves it at its edge.
        if (i > 0 && !p.series[k].markers) {
          double xa = curves[k][i - 1][0], ya = curves[k][i - 1][1], xb = X, yb = Y;
          if (!clip_to_rows(xa, ya, xb, yb, top, bottom)) continue;
          if (p.series[k].dashed)
            dashed_line(c, xa, ya, xb, yb, col, along);
          else
            c.line(xa, ya, xb, yb, col, 2);
        } else if (Y >= top && Y <= bottom) {
          c.fill_rect(static_cast<int64_t>(X) - r, static_cast<int64_t>(Y) - r, static_cast<int64_t>(X) + r + 1,
                      static_cast<int64_t>(Y) + r + 1, col);
        }
      }
    }
  };
  draw_curves();
  if (!named) return;
  const int corner = int(std::min_element(hidden, hidden + 4) - hidden);  // the first of equals
  const int64_t box_x = corners[corner][0], box_y = corners[corner][1];
  c.fill_rect(box_x, box_y, box_x + box_w - 1, box_y + box_h - 1, {255, 255, 255});
  int64_t legend_y = box_y + 3;
  for (size_t k = 0; k < p.series.size(); ++k) {
    if (names[k].empty()) continue;
    const Rgb col = kPalette[k % std::size(kPalette)];
    double along = 0;
    if (p.series[k].markers)
      c.fill_rect(box_x + 14, legend_y + 5, box_x + 18, legend_y + 9, col);
    else if (p.series[k].dashed)
      dashed_line(c, box_x + 6, legend_y + 7, box_x + 27, legend_y + 7, col, along);
    else
      c.line(box_x + 6, legend_y + 7, box_x + 26, legend_y + 7, col, 2);
    c.text(box_x + 32, legend_y, names[k], 11, kAxis);
    legend_y += 16;
  }
  // Where every corner still covers data, the data is drawn again over the box: a curve crossing
  // the legend's text is better than a stretch of curve that cannot be seen.
  if (hidden[corner] > 0) draw_curves();
}

}  // namespace

// A validation loss between 1.9250 and 1.9262 was labelled "1.925" five times with 4 digits.
std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  std::vector<std::string> labels;
  for (int digits = 4; digits <= 12; ++digits) {
    labels.clear();
    for (double t : ticks) labels.push_back(tick_label(t, digits));
    bool distinct = true;
    for (size_t k = 1; k < labels.size(); ++k) distinct = distinct && labels[k] != labels[k - 1];
    if (distinct) break;
  }
  return labels;
}

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
