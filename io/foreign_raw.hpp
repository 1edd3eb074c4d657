// Internal to io/foreign*.cpp: one trajectory as read from any foreign format, the shape checks
// the readers share, and `finish`, which validates a raw trajectory and settles its node types.
// The readers of each format are in foreign_graph_physics.cpp, foreign_vtu.cpp and
// foreign_xdmf.cpp; the public interface is io/foreign.hpp.
#pragma once
#include <hdf5.h>
#include <vtkXMLDataElement.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/foreign.hpp"

namespace tessera::io::foreign_detail {

// One trajectory as read from any format, before its node types are settled.
struct Raw {
  std::string source;
  int64_t steps = 0, nodes = 0;
  std::vector<float> pos;                    // [N, 2]
  std::vector<int32_t> cells;                // [C, 3]
  std::vector<float> velocity;               // [T, N, 2]
  std::vector<float> pressure;               // [T, N]; empty: absent
  std::vector<double> node_type;             // [N]; empty: absent
  std::vector<double> times;                 // per step, when the source has them
  std::vector<std::string> warnings;         // what the reader doubts but does not refuse
  std::vector<std::string> step_files;       // per step, the file it was read from (VTU series), for errors
  int64_t first_step = 0, series_steps = 0;  // ImportOptions::one_step: the step read, of how many
  double series_spacing = std::numeric_limits<double>::quiet_NaN();  // and the series' first time step
};

// The step ImportOptions::one_step names in a series of `steps` (negative: from the end), or
// an Error naming the series and its steps.
size_t chosen_step(const ImportOptions& o, size_t steps, const std::string& series);
// The step between the first two time stamps of `t` (NaN with fewer than 2, or where they are not
// finite): a series thinned with output.every keeps that spacing up to its last, shorter step.
double first_spacing(const std::vector<double>& t);

// An n-D array read from a file, as doubles.
struct Array {
  std::vector<hsize_t> dims;
  std::vector<double> v;
  std::string what;  // "file: dataset" for errors
};

std::string shape_text(const std::vector<hsize_t>& d);

// The first index where a and b differ (b empty: none); -1 when they agree.
int64_t first_difference(const std::vector<double>& a, const std::vector<double>& b);

// A static per-row array: [R, C] or [T, R, C] constant over T (or [R] when C may be 1).
// Returns the rows of step 0; `channels` lists the accepted channel counts. `changing` ends the
// message when a [T, R, C] array changes over T.
std::vector<double> static_rows(const Array& a, const std::vector<int>& channels, int64_t& rows, int& ch,
                                const std::string& expected,
                                const std::string& changing = "moving meshes are not supported");

// A dynamic per-row array: [T, R, C] or [T, R] (C = 1).
void dynamic_rows(const Array& a, const std::vector<int>& channels, int64_t& steps, int64_t& rows, int& ch,
                  const std::string& expected);

// Points or vectors with 3 components whose third one is constant (points) or zero (vectors)
// become 2D; anything else 3D is refused. With `nodes` > 0 the message names the row as step and
// node (rows of [T, nodes, 3] data).
std::vector<float> to_2d(const std::vector<double>& v, int ch, bool vector, const std::string& what, int64_t nodes = 0);

std::vector<int32_t> to_cells(const std::vector<double>& v, int64_t nodes, const std::string& what);

// A series of at least 4 stamps whose last time step alone is shorter than the others (a run
// thinned with output.every also writes its last state, tessera's among them): that step left
// out, with a warning in r.warnings; nothing otherwise. Any other unevenness is left for
// dt_from_times to refuse.
void drop_short_last_step(Raw& r, const std::string& what);
// dt from uniform time stamps; 0 when there are fewer than two. Stamps must be finite, increasing
// and uniform (an Error on `what` otherwise). `uncertainty`, when given, receives how far the
// stamps' rounding may move that dt (the mean step), for comparing dts of several series.
double dt_from_times(const std::vector<double>& t, const std::string& what, double* uncertainty = nullptr);

// A number written as text (a .pvd timestep, an XDMF Time Value): the whole text must be one
// finite number, else an Error naming `what` and the text.
double parse_number(const std::string& text, const std::string& what);

// A later step of a series (`where`) must have step 0's mesh: the same 2D points and cells.
// `step0` names step 0's file in the message (empty: none).
void check_same_mesh(const Raw& r, const std::vector<float>& pos, const std::vector<int32_t>& cells,
                     const std::string& where, const std::string& step0);

// While alive, VTK's error and warning reports (multi-line, to stderr through vtkLogger) are
// collected instead of printed, so that a reader's failure can be reported as one line.
class VtkMessages {
 public:
  VtkMessages();
  ~VtkMessages();
  VtkMessages(const VtkMessages&) = delete;
  VtkMessages& operator=(const VtkMessages&) = delete;
  // The first error's message (VTK's "ERROR: In file, line" header dropped); empty if none.
  std::string first_error() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The dataset's dt: import.dt when set (a different `from_source()` is kept in d.replaced_dt),
// else `from_source()` (0: the source has none), recorded as `source`; else an error on d.source
// that says what is missing and to set import.dt.
void settle_dt(ImportedDataset& d, const ImportOptions& o, const std::function<double()>& from_source,
               const std::string& source, const std::string& missing);

// Sorting key of names with numbers: by the last number in the name, then the name.
bool natural_less(const std::string& a, const std::string& b);

// Checks a raw trajectory and builds the tessera fields (node types from the field or inferred).
ImportedTrajectory finish(Raw r, const ImportOptions& o);

// An XML document as VTK's parser reads it, owned. Its destructor takes the tree apart from the
// leaves up: VTK's own recurses once per level, and a damaged file nested a million elements deep
// (7 MB) overflowed the stack there.
class XmlTree {
 public:
  explicit XmlTree(vtkXMLDataElement* root) : root_(root) {}  // takes the reference
  XmlTree(XmlTree&& other) noexcept : root_(std::exchange(other.root_, nullptr)) {}
  XmlTree(const XmlTree&) = delete;
  XmlTree& operator=(const XmlTree&) = delete;
  XmlTree& operator=(XmlTree&&) = delete;
  ~XmlTree();
  vtkXMLDataElement* operator->() const { return root_; }
  operator vtkXMLDataElement*() const { return root_; }

 private:
  vtkXMLDataElement* root_;
};

// XML helpers of the .pvd and XDMF readers (VTK's XML parser).
XmlTree read_xml(const std::string& path);
// Every element of the tree at `root`, root first, in document order (depth first). With a stack
// of its own, not by recursion: a damaged file nested 100,000 elements deep overflowed the call
// stack.
std::vector<vtkXMLDataElement*> in_document_order(vtkXMLDataElement* root);
std::string attr(vtkXMLDataElement* e, const char* name, const std::string& fallback = "");
std::string lower(std::string s);
std::string trim(const std::string& s);

}  // namespace tessera::io::foreign_detail
