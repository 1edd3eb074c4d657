// The training's history files, kept by the shared loop (train/loop.cpp): metrics.csv (one row
// per validation) and loss.csv (every step's loss and its smoothed value). A resumed run carries
// the rows of the runs before it on, up to its checkpoint's step. Internal to the loop: not
// installed (the *_detail.hpp rule of cmake/TesseraInstall.cmake).
#pragma once
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/line_plot.hpp"

namespace tessera::train::detail {

inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// metrics.csv: one row per validation, rewritten atomically each time.
class MetricsFile {
 public:
  // A resumed run (`resumed_at` > 0) keeps the rows of the runs before it up to its checkpoint's
  // step, so the file holds the whole history; rows after that step were made by a run that
  // stopped before its next checkpoint and are made again.
  explicit MetricsFile(std::string path) : path_(std::move(path)) {}
  // The rows come from `source`: this file, or the one beside the checkpoint a resume into
  // another folder loaded.
  void load(const std::string& source, int64_t resumed_at) {
    std::ifstream in(source);
    if (resumed_at == 0 || !in) return;
    std::string header;
    std::getline(in, header);
    columns_ = split_csv_line(header);
    if (columns_.empty() || columns_[0] != "step")
      throw Error(cat(source, ":1: the header must begin with 'step', not '", header.substr(0, 40),
                      "' (move the file away to start a new history)"));
    int64_t line = 1;
    for (std::string row; std::getline(in, row);) {
      ++line;
      if (row.empty()) continue;
      int64_t step = -1;
      const auto [end, ec] = std::from_chars(row.data(), row.data() + row.size(), step);
      if (ec != std::errc() || end == row.data() + row.size() || *end != ',')
        throw Error(cat(source, ":", line, ": a row must begin with its step and a comma, not '", row.substr(0, 40),
                        "' (move the file away to start a new history)"));
      if (step > resumed_at) continue;
      const std::vector<std::string> cells = split_csv_line(row);
      if (cells.size() != columns_.size())
        throw Error(cat(source, ":", line, ": ", cells.size(), " values for the header's ", columns_.size(),
                        " columns (move the file away to start a new history)"));
      Row r;
      for (size_t c = 0; c < cells.size(); ++c) r[columns_[c]] = cells[c];
      rows_.push_back(std::move(r));
    }
  }
  // A figure the earlier rows lack (another rank count's bytes_rank<r>, a resumed run that reports
  // more) becomes a new column, empty in those rows; a figure this row lacks is empty in it. (The
  // table was started anew, and the earlier history lost, when the set of figures changed.)
  void add(int64_t step, const std::vector<Metric>& metrics) {
    if (metrics.empty()) return;
    if (columns_.empty()) columns_ = {"step"};
    Row row{{"step", cat(step)}};
    for (const auto& [name, value] : metrics) {
      if (std::find(columns_.begin(), columns_.end(), name) == columns_.end()) columns_.push_back(name);
      row[name] = cat(value);
    }
    rows_.push_back(std::move(row));
    std::string csv;
    for (size_t c = 0; c < columns_.size(); ++c) csv += (c ? "," : "") + columns_[c];
    csv += "\n";
    for (const Row& r : rows_) {
      for (size_t c = 0; c < columns_.size(); ++c) {
        const auto it = r.find(columns_[c]);
        csv += (c ? "," : "") + (it == r.end() ? std::string() : it->second);
      }
      csv += "\n";
    }
    core::write_text_atomic(path_, csv);
  }
  // The columns whose name holds one of `parts` (as "loss", "rmse"), as plot series over the step
  // (rows with a value).
  std::vector<io::PlotSeries> series_named(const std::vector<std::string>& parts) const {
    std::vector<io::PlotSeries> out;
    for (const std::string& name : columns_) {
      if (std::none_of(parts.begin(), parts.end(),
                       [&](const std::string& p) { return name.find(p) != std::string::npos; }))
        continue;
      io::PlotSeries s{name, {}, {}};
      for (const Row& r : rows_) {
        const auto it = r.find(name);
        if (it == r.end() || it->second.empty()) continue;
        s.x.push_back(std::stod(r.at("step")));
        s.y.push_back(std::strtod(it->second.c_str(), nullptr));
      }
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  using Row = std::map<std::string, std::string>;
  std::string path_;
  std::vector<std::string> columns_;
  std::vector<Row> rows_;
};

// loss.csv: the loss of every step and its smoothed value (0.98), brought up to date with each
// checkpoint (write(): rewritten at a run's first, appended to after), so that a resumed run's training.png and
// progress line go on from the earlier runs' (they began anew at every resume). Values are written in the shortest form
// that reads back exactly: the smoothed loss continues as if the run had not stopped.
class LossHistory {
 public:
  explicit LossHistory(std::string path) : path_(std::move(path)) {}
  // The rows up to `resumed_at` from `source` (this file, or the one beside the checkpoint a
  // resume into another folder loaded); none for a fresh run or a checkpoint without the file.
  void load(const std::string& source, int64_t resumed_at) {
    std::ifstream in(source);
    if (resumed_at == 0 || !in) return;
    auto bad = [&](int64_t line, const std::string& what) {
      return Error(cat(source, ":", line, ": ", what, " (move the file away to start a new loss history)"));
    };
    std::string header;
    std::getline(in, header);
    if (header != kHeader) throw bad(1, cat("the header must be '", kHeader, "', not '", shown(header, 40), "'"));
    int64_t line = 1;
    for (std::string row; std::getline(in, row);) {
      ++line;
      if (row.empty()) continue;
      const std::vector<std::string> cells = split_csv_line(row);
      double v[3] = {0, 0, 0};
      bool ok = cells.size() == 3;
      for (size_t c = 0; ok && c < 3; ++c) {
        const char *b = cells[c].data(), *e = b + cells[c].size();
        const auto [end, ec] = std::from_chars(b, e, v[c]);
        ok = ec == std::errc() && end == e;
      }
      // An unfinished last line (no newline after it) is an append that a kill cut short, after
      // the last checkpoint: its steps are done again.
      if (!ok && in.eof()) break;
      if (!ok) throw bad(line, cat("expected three numbers (step, loss, smoothed), not '", shown(row, 60), "'"));
      if (v[0] > double(resumed_at)) continue;
      if (!raw.x.empty() && v[0] <= raw.x.back())
        throw bad(line, cat("step ", v[0], " does not follow step ", raw.x.back()));
      if (raw.x.empty()) first_averaged_ = int64_t(v[0]);
      raw.x.push_back(v[0]), raw.y.push_back(v[1]);
      smooth.x.push_back(v[0]), smooth.y.push_back(v[2]);
    }
  }
  // Ranks that read no history (all but rank 0) go on from rank 0's smoothed loss at the resumed
  // step, and the step its average began at, so that their progress lines match rank 0's (they
  // began anew).
  void continue_from(double smoothed, int64_t first) { carried_ = smoothed, first_averaged_ = first; }
  // The step the smoothed loss's average began at: the first row's where rows were read, the
  // carried one, or the first step added.
  int64_t first_averaged() const { return first_averaged_; }
  // Adds a step's loss; returns the smoothed loss: the mean of the losses so far, weighted 0.98 to
  // the power of their age, with Adam's bias correction (an average that started at the first
  // loss stayed near it for about 50 steps: a PINN's smoothed loss 1.3e5 after 20 steps whose
  // losses were 1.1e5). The losses so far are those since the average began: step 1's, or the
  // first step of a run resumed without a loss history.
  double add(int64_t step, double loss) {
    const double before = smooth.y.empty() ? carried_ : smooth.y.back();
    if (std::isnan(before)) first_averaged_ = step;
    const int64_t earlier = std::max<int64_t>(step - first_averaged(), 0);
    const double kept = std::pow(0.98, double(earlier));  // 1 - the earlier losses' weights
    const double avg = std::isnan(before) ? loss : (0.98 * before * (1 - kept) + 0.02 * loss) / (1 - 0.98 * kept);
    raw.x.push_back(double(step)), raw.y.push_back(loss);
    smooth.x.push_back(double(step)), smooth.y.push_back(avg);
    return avg;
  }
  // The first write of a run rewrites the file (atomically: a resume cuts the rows after its
  // checkpoint); later ones append the rows since. Rewritten whole at every checkpoint, the file
  // cost the square of its length: about 21 GB of writes over 10^6 steps (a soak review,
  // 2026-12-06). An append cut short by a kill leaves an unfinished last line, which load() skips.
  void write() {
    const size_t rows = raw.x.size();
    if (written_ > 0 && written_ <= rows && core::append_text(path_, lines(written_, rows))) {
      written_ = rows;
      return;
    }
    core::write_text_atomic(path_, cat(kHeader, "\n") + lines(0, rows));
    written_ = rows;
  }
  io::PlotSeries raw{"loss per step", {}, {}}, smooth{"smoothed (0.98)", {}, {}};

 private:
  // Rows [begin, end) as CSV lines: the step as an integer (the shortest double form writes
  // 100000 as 1e+05), the losses in the shortest form that reads back exactly.
  std::string lines(size_t begin, size_t end) const {
    std::string csv;
    char buf[32];
    auto put = [&](auto v, char last) {
      const auto r = std::to_chars(buf, buf + sizeof buf, v);
      csv.append(buf, r.ptr);
      csv += last;
    };
    for (size_t i = begin; i < end; ++i) put(int64_t(raw.x[i]), ','), put(raw.y[i], ','), put(smooth.y[i], '\n');
    return csv;
  }
  static constexpr const char* kHeader = "step,loss,smoothed";
  std::string path_;
  size_t written_ = 0;          // rows in the file since this run's first write (0: none yet)
  double carried_ = NAN;        // the smoothed loss before the first row, where this rank read none
  int64_t first_averaged_ = 1;  // the step the average began at
};

}  // namespace tessera::train::detail
