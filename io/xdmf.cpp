#include "io/xdmf.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <sstream>
#include <string_view>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/on_root.hpp"
#include "io/h5.hpp"

namespace tessera::io {
namespace {

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// A field's values, 2-component rows padded with z = 0.
std::vector<double> padded(const Field& f) {
  const int c = f.channels, sc = stored_channels(f);
  const int64_t rows = static_cast<int64_t>(f.data.size()) / c;
  std::vector<double> out(rows * sc, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int k = 0; k < c; ++k) out[r * sc + k] = f.data[r * c + k];
  return out;
}

// Text as an XML attribute value: markup characters as entities and line breaks as &#10;, which
// parsers would otherwise fold into spaces.
std::string xml_attribute(const std::string& s) {
  std::string out;
  for (char c : s) switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        out += c;
    }
  return out;
}

}  // namespace

XdmfSeries::XdmfSeries(std::string base, const mesh::Mesh& m, const Comm& comm, std::vector<Field> static_fields,
                       std::string deck_yaml)
    : base_(std::move(base)),
      comm_(comm),
      dim_(m.dim),
      npc_(mesh::nodes_per_cell(m.cell_type)),
      num_nodes_(m.num_nodes()),
      num_cells_(m.num_cells()),
      static_fields_(std::move(static_fields)),
      deck_yaml_(std::move(deck_yaml)) {
  topology_ = m.cell_type == mesh::CellType::Triangle ? "Triangle"
              : m.cell_type == mesh::CellType::Quad   ? "Quadrilateral"
                                                      : "Tetrahedron";

  run_on_root(comm_, [&] {
    write_h5_atomic(base_ + "_mesh.h5", [&](H5File& f) {
      std::vector<double> xyz(num_nodes_ * 3, 0.0);
      for (int64_t i = 0; i < num_nodes_; ++i)
        for (int k = 0; k < dim_; ++k) xyz[i * 3 + k] = m.coords[i * dim_ + k];
      f.write("/coords", {hsize_t(num_nodes_), 3}, xyz.data());
      f.write("/cells", {hsize_t(num_cells_), hsize_t(npc_)}, m.cells.data());
      if (!deck_yaml_.empty()) f.write_attr("/", "tessera_deck", deck_yaml_);
      write_fields(f, static_fields_);
    });
  });
}

void XdmfSeries::write_fields(H5File& f, const std::vector<Field>& fields) const {
  for (const Field& fld : fields) {
    const int64_t rows = fld.on_cells ? num_cells_ : num_nodes_;
    if (static_cast<int64_t>(fld.data.size()) != rows * fld.channels)
      throw Error(cat(base_, ": field '", fld.name, "' has ", fld.data.size(), " values; expected ", rows, " x ",
                      fld.channels));
    const auto values = padded(fld);
    const std::vector<hsize_t> dims{hsize_t(rows), hsize_t(stored_channels(fld))};
    if (fld.integer) {
      const std::vector<int32_t> whole(values.begin(), values.end());
      f.write("/" + fld.name, dims, whole.data());
    } else {
      f.write("/" + fld.name, dims, values.data());
    }
  }
}

std::string XdmfSeries::step_file(int64_t own_step) const {
  std::ostringstream name;
  name << base_ << "_" << std::setw(6) << std::setfill('0') << own_step << ".h5";
  return name.str();
}

int64_t XdmfSeries::layout_index(const std::vector<Field>& fields) {
  std::vector<Field> layout;
  for (const Field& f : fields) layout.push_back(Field{f.name, f.channels, f.on_cells, {}, f.integer});
  const auto same = [&](const std::vector<Field>& l) {
    return std::equal(l.begin(), l.end(), layout.begin(), layout.end(), [](const Field& a, const Field& b) {
      return a.name == b.name && a.channels == b.channels && a.on_cells == b.on_cells && a.integer == b.integer;
    });
  };
  const auto it = std::find_if(layouts_.begin(), layouts_.end(), same);
  if (it != layouts_.end()) return it - layouts_.begin();
  layouts_.push_back(std::move(layout));
  return static_cast<int64_t>(layouts_.size()) - 1;
}

void XdmfSeries::write_step(double time, const std::vector<Field>& fields) {
  Step s{time, -1, own_steps_};
  // A step without fields (tessera-mesh's mesh alone) has no file: it was an empty one that the
  // index did not refer to.
  if (!fields.empty()) {
    run_on_root(comm_, [&] {
      write_h5_atomic(step_file(own_steps_), [&](H5File& f) {
        write_fields(f, fields);
        // The step's time and number, for h5py users who read a step file alone.
        f.write_double_attr("/", "time", time);
        f.write_int64_attr("/", "step", own_steps_);
      });
    });
    s.layout = layout_index(fields);
  }
  ++own_steps_;
  steps_.push_back(s);
  run_on_root(comm_, [&] { pacer_.rewrite_if_due([&] { write_index(); }); });
}

void XdmfSeries::add_earlier_step(double time, const std::string& h5_path, const std::vector<Field>& fields) {
  if (fields.empty()) return;
  earlier_files_.push_back(h5_path);
  steps_.push_back({time, layout_index(fields), -static_cast<int64_t>(earlier_files_.size())});
}

void XdmfSeries::finish() {
  run_on_root(comm_, [&] {
    if (indexed_ < steps_.size()) write_index();
  });
}

XdmfSeries::~XdmfSeries() {
  if (!comm_.root() || indexed_ == steps_.size()) return;
  try {
    write_index();
  } catch (...) {  // the error that unwinds this series is the one to report
  }
}

std::string XdmfSeries::attributes_xml(const std::string& h5_name, const std::vector<Field>& fields) const {
  std::ostringstream os;
  for (const Field& f : fields) {
    const int sc = stored_channels(f);
    const char* type = sc == 1 ? "Scalar" : sc == 3 ? "Vector" : "Matrix";
    os << "      <Attribute Name=\"" << f.name << "\" AttributeType=\"" << type << "\" Center=\""
       << (f.on_cells ? "Cell" : "Node") << "\">\n"
       << "        <DataItem Dimensions=\"" << (f.on_cells ? num_cells_ : num_nodes_) << " " << sc
       << (f.integer ? "\" NumberType=\"Int\" Precision=\"4\"" : "\" NumberType=\"Float\" Precision=\"8\"")
       << " Format=\"HDF\">" << xml_attribute(h5_name) << ":/" << f.name << "</DataItem>\n"
       << "      </Attribute>\n";
  }
  return os.str();
}

void XdmfSeries::write_index() {
  const std::string mesh_h5 = file_name(base_ + "_mesh.h5");
  // Handed over a piece at a time: the whole text is about 900 bytes a step (90 MB at 10^5
  // steps), which held whole, with its stream's buffer, raised a long rollout's memory by 4 KB a
  // step.
  core::write_text_atomic(xmf_path(), [&](const std::function<void(std::string_view)>& write) {
    std::ostringstream os;
    os << std::setprecision(17);
    const auto hand_over = [&](bool last) {
      if (!last && os.tellp() < (1 << 20)) return;
      write(os.str());
      os.str("");
    };
    os << "<?xml version=\"1.0\" ?>\n<Xdmf Version=\"3.0\">\n  <Domain>\n";
    if (!deck_yaml_.empty())
      // XDMF3 readers (ParaView's Xdmf3 Reader S/T) require the Value attribute; element text
      // aborts them.
      os << "  <Information Name=\"tessera_deck\" Value=\"" << xml_attribute(deck_yaml_) << "\"/>\n";
    os << "  <Grid Name=\"series\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
    const std::string statics = attributes_xml(mesh_h5, static_fields_);
    for (size_t i = 0; i < steps_.size(); ++i) {
      const Step& s = steps_[i];
      os << "    <Grid Name=\"step_" << i << "\" GridType=\"Uniform\">\n"
         << "      <Time Value=\"" << core::time_text(s.time) << "\"/>\n"
         << "      <Topology TopologyType=\"" << topology_ << "\" NumberOfElements=\"" << num_cells_ << "\">\n"
         << "        <DataItem Dimensions=\"" << num_cells_ << " " << npc_
         << "\" NumberType=\"Int\" Precision=\"8\" Format=\"HDF\">" << mesh_h5 << ":/cells</DataItem>\n"
         << "      </Topology>\n"
         << "      <Geometry GeometryType=\"XYZ\">\n"
         << "        <DataItem Dimensions=\"" << num_nodes_
         << " 3\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << mesh_h5 << ":/coords</DataItem>\n"
         << "      </Geometry>\n"
         << statics
         << (s.layout < 0 ? std::string()
                          : attributes_xml(s.file >= 0 ? file_name(step_file(s.file)) : earlier_files_[-1 - s.file],
                                           layouts_[s.layout]))
         << "    </Grid>\n";
      hand_over(false);
    }
    os << "  </Grid>\n  </Domain>\n</Xdmf>\n";
    hand_over(true);
  });
  indexed_ = steps_.size();
  ++index_writes_;
}

}  // namespace tessera::io
