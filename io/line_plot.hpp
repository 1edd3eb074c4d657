// Line plots as PNG without a display (training curves, error histories): one or more panels in
// a row, each with axes, ticks, labels and a legend; a logarithmic y axis on request.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io {

struct PlotSeries {
  std::string name;
  std::vector<double> x, y;  // non-finite points (and y <= 0 on a log axis) are skipped
  bool markers = false;      // a marker per point, unjoined (isolated events, e.g. the solver's steps)
  // Drawn dashed: a baseline or a copy (persistence, the best so far) that may lie on the curve
  // it is compared with; that curve shows through its gaps (drawn solid, it hid the model's).
  bool dashed = false;
};

struct LinePlot {
  std::string title, x_label, y_label;
  bool log_y = false;
  std::vector<PlotSeries> series;
  // A linear y axis scaled to the bulk of the values: a few far outliers (an impulsive start's
  // first forces, 20 times the rest) would flatten every other value into one line. Values
  // beyond the 1st to 99th percentile widened by three times its span on either side leave the
  // axis at its edge, and the title says how many and their range. Not for 20 values or fewer.
  bool clip_outliers = false;
};

// Writes `plots` side by side, each panel_width × panel_height pixels (atomically). Throws when
// no plot has a point to draw.
void write_line_plots_png(const std::string& path, const std::vector<LinePlot>& plots, int64_t panel_width = 480,
                          int64_t panel_height = 340);

// The labels of an axis's tick values, with as many significant digits as tell neighbours apart
// (at least 4, at most 12); whole numbers below 10^7 in full.
std::vector<std::string> tick_labels(const std::vector<double>& ticks);

}  // namespace tessera::io
