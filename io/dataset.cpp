#include "io/dataset.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/exact_text.hpp"
#include "core/gather.hpp"
#include "core/on_root.hpp"
#include "io/h5.hpp"
#include "io/yaml_message.hpp"

namespace tessera::io {

void add_mesh_fields(Trajectory& t, const mesh::Mesh& m) {
  if (m.dim != 2 || m.cell_type != mesh::CellType::Triangle)
    throw Error("add_mesh_fields: the graph-physics layout here stores 2D triangle meshes");
  const hsize_t n = m.num_nodes();
  auto& cells = t["cells"];
  cells.shape = {1, hsize_t(m.num_cells()), 3};
  cells.i32.assign(m.cells.begin(), m.cells.end());
  auto& pos = t["mesh_pos"];
  pos.shape = {1, n, 2};
  pos.f32.assign(m.coords.begin(), m.coords.end());
  auto& nt = t["node_type"];
  nt.shape = {1, n, 1};
  nt.i32 = m.node_type.empty() ? std::vector<int32_t>(n, mesh::kNormal) : m.node_type;
}

const FieldMeta* DatasetMeta::find(const std::string& name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

// JSON is a subset of YAML's flow style: yaml-cpp emits it with double-quoted strings.
std::string DatasetMeta::to_json() const {
  YAML::Emitter e;
  e << YAML::Flow << YAML::DoubleQuoted << YAML::BeginMap;
  e << YAML::Key << "dt" << YAML::Value << YAML::DoublePrecision(core::exact_digits(dt)) << dt;
  e << YAML::Key << "trajectory_length" << YAML::Value << trajectory_length;
  e << YAML::Key << "field_names" << YAML::Value << YAML::BeginSeq;
  for (const auto& f : fields) e << f.name;
  e << YAML::EndSeq << YAML::Key << "features" << YAML::Value << YAML::BeginMap;
  for (const auto& f : fields) {
    e << YAML::Key << f.name << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "type" << YAML::Value << (f.dynamic ? "dynamic" : "static");
    e << YAML::Key << "shape" << YAML::Value << YAML::BeginSeq << (f.dynamic ? trajectory_length : 1) << -1
      << f.channels << YAML::EndSeq;
    e << YAML::Key << "dtype" << YAML::Value << f.dtype << YAML::EndMap;
  }
  e << YAML::EndMap << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

DatasetMeta DatasetMeta::from_json(const std::string& text, const std::string& source) {
  DatasetMeta m;
  try {
    YAML::Node n = YAML::Load(text);
    std::string missing;
    for (const char* key : {"dt", "trajectory_length", "field_names", "features"})
      if (!n.IsMap() || !n[key]) missing += cat(missing.empty() ? "" : ", ", "\"", key, "\"");
    if (!missing.empty())
      throw Error(cat(source, ": not a tessera dataset's meta.json: no ", missing,
                      " (a meta.json of graph-physics data beside its .h5 file: convert that file with tessera-import, "
                      "docs/import.md)"));
    m.dt = n["dt"].as<double>();
    m.trajectory_length = n["trajectory_length"].as<int64_t>();
    // A model learns steps of this dt, and rollouts and the solver compare against it.
    if (!(m.dt > 0) || !std::isfinite(m.dt))
      throw Error(cat(source, ": \"dt\" is ", m.dt, "; expected a positive time step"));
    if (m.trajectory_length < 1)
      throw Error(cat(source, ": \"trajectory_length\" is ", m.trajectory_length, "; expected at least 1"));
    YAML::Node feats = n["features"];
    for (const auto& name : n["field_names"]) {
      FieldMeta f;
      f.name = name.as<std::string>();
      YAML::Node fm = feats[f.name];
      if (!fm.IsMap()) throw Error(cat(source, ": field '", f.name, "' has no entry under \"features\""));
      f.dynamic = fm["type"].as<std::string>() == "dynamic";
      f.channels = fm["shape"][2].as<int>();
      f.dtype = fm["dtype"].as<std::string>();
      if (f.dtype != "float32" && f.dtype != "int32")
        throw Error(cat(source, ": field '", f.name, "' has dtype ", f.dtype, "; expected float32 or int32"));
      m.fields.push_back(f);
    }
  } catch (const YAML::Exception& e) {
    throw Error(cat(source, ": not a valid dataset meta.json (need dt, trajectory_length, field_names, features): ",
                    yaml_message(e)));
  }
  return m;
}

DatasetMeta DatasetMeta::cylinder_flow(int64_t t, double dt) {
  DatasetMeta m;
  m.dt = dt;
  m.trajectory_length = t;
  m.fields = {{"cells", false, 3, "int32"},
              {"mesh_pos", false, 2, "float32"},
              {"node_type", false, 1, "int32"},
              {"velocity", true, 2, "float32"},
              {"pressure", true, 1, "float32"}};
  return m;
}

DatasetWriter::DatasetWriter(const std::string& dir, const std::string& split, DatasetMeta meta, const Comm& comm,
                             const std::string& deck_yaml)
    : dir_(dir), path_(dir + "/" + split + ".h5"), meta_(std::move(meta)), comm_(comm) {
  temp_ = std::make_unique<core::TemporaryOutput>(core::temp_path(path_), comm_.root());
  // Rank 0 writes the file for all, from the blocks the ranks send it (docs/design.md, "Rank 0
  // writes the XDMF series"): HDF5's collective MPI-IO files could hang on a full disk.
  run_on_root(comm_, [&] {
    core::ensure_parent_dir(path_);
    file_ = std::make_unique<H5File>(H5File::create(temp_->path()));
    if (!deck_yaml.empty()) file_->write_attr("/", "tessera_deck", deck_yaml);
  });
}

DatasetWriter::~DatasetWriter() = default;

// Why this rank's block of trajectory `index` cannot be written; empty if it can.
std::string DatasetWriter::check(int64_t index, const Trajectory& t) const {
  for (const auto& f : meta_.fields) {
    auto it = t.find(f.name);
    if (it == t.end()) return cat(path_, ": trajectory ", index, " lacks field '", f.name, "'");
    const FieldData& d = it->second;
    const hsize_t steps = f.dynamic ? meta_.trajectory_length : 1;
    if (d.shape.size() != 3 || d.shape[0] != steps || d.shape[2] != hsize_t(f.channels))
      return cat(path_, ": trajectory ", index, " field '", f.name, "' must be shaped [", steps, ", rows, ", f.channels,
                 "]");
    const size_t n = d.shape[0] * d.shape[1] * d.shape[2];
    if ((f.dtype == "int32" ? d.i32.size() : d.f32.size()) != n)
      return cat(path_, ": trajectory ", index, " field '", f.name, "' has the wrong number of values");
    if (d.global_rows && d.row_offset + d.shape[1] > d.global_rows)
      return cat(path_, ": trajectory ", index, " field '", f.name, "': rows ", d.row_offset, " to ",
                 d.row_offset + d.shape[1], " lie outside its ", d.global_rows, " rows");
  }
  return "";
}

void DatasetWriter::write(int64_t index, const Trajectory& t) {
  if (finished_) throw Error(cat(path_, ": write after finish"));
  // Every field on every rank is checked before any is written, so a bad trajectory leaves no
  // partial group, and all ranks stop together.
  run_on_every_rank(comm_, [&] {
    if (const std::string problem = check(index, t); !problem.empty())
      throw Error(comm_.size() > 1 ? cat(problem, " (rank ", comm_.rank(), "'s rows)") : problem);
  });
  // Every field's row block (offset, rows) of every rank, on rank 0: block(r, k) for rank r and
  // field k. Rank 0 checks that they tile the field's rows, also before anything is written.
  const size_t nf = meta_.fields.size();
  std::vector<int64_t> mine(2 * nf);
  for (size_t k = 0; k < nf; ++k) {
    const FieldData& d = t.at(meta_.fields[k].name);
    mine[2 * k] = int64_t(d.row_offset), mine[2 * k + 1] = int64_t(d.shape[1]);
  }
  const std::vector<char> gathered = gather_to_root(comm_, mine.data(), int64_t(mine.size() * sizeof(int64_t)));
  auto block = [&](int r, size_t k) {
    int64_t b[2];
    std::memcpy(b, gathered.data() + (r * nf + k) * sizeof b, sizeof b);
    return std::pair{b[0], b[1]};
  };
  auto rows_of = [&](const FieldData& d) { return int64_t(d.global_rows ? d.global_rows : d.shape[1]); };
  run_on_root(comm_, [&] {
    for (size_t k = 0; k < nf; ++k) {
      const std::string& name = meta_.fields[k].name;
      const int64_t grows = rows_of(t.at(name));
      std::vector<int> owner(grows, -1);
      for (int r = 0; r < comm_.size(); ++r) {
        const auto [b0, rows] = block(r, k);
        const int64_t b1 = b0 + rows;
        if (b1 > grows)
          throw Error(cat(path_, ": trajectory ", index, " field '", name, "': rank ", r, "'s rows ", b0, " to ", b1,
                          " lie outside its ", grows, " rows"));
        for (int64_t row = b0; row < b1; ++row) {
          if (owner[row] >= 0)
            throw Error(cat(path_, ": trajectory ", index, " field '", name, "': row ", row,
                            " is in the blocks of rank ", owner[row], " and rank ", r));
          owner[row] = r;
        }
      }
      if (const auto gap = std::find(owner.begin(), owner.end(), -1); gap != owner.end())
        throw Error(cat(path_, ": trajectory ", index, " field '", name, "': row ", gap - owner.begin(), " of ", grows,
                        " is in no rank's block"));
    }
  });
  const std::string group = cat("/", index);
  for (size_t k = 0; k < nf; ++k) {
    const FieldMeta& f = meta_.fields[k];
    const FieldData& d = t.at(f.name);
    // Dataset [steps, global rows, C], assembled on rank 0 from each rank's block of rows.
    const void* own = f.dtype == "int32" ? static_cast<const void*>(d.i32.data()) : d.f32.data();
    const int64_t row_bytes = int64_t(d.shape[2]) * 4, steps = int64_t(d.shape[0]);  // int32 and float32 alike
    std::vector<char> values;
    try {
      values = gather_to_root(comm_, own, steps * int64_t(d.shape[1]) * row_bytes);
    } catch (const Error& e) {  // every rank alike
      throw Error(cat(path_, ": trajectory ", index, " field '", f.name, "': ", e.what()));
    }
    run_on_root(comm_, [&] {
      const int64_t grows = rows_of(d);
      std::vector<char> whole(steps * grows * row_bytes);
      const char* from = values.data();
      for (int r = 0; r < comm_.size(); ++r) {
        const auto [b0, rows] = block(r, k);
        for (int64_t s = 0; s < steps; ++s, from += rows * row_bytes)
          std::memcpy(whole.data() + (s * grows + b0) * row_bytes, from, rows * row_bytes);
      }
      const std::vector<hsize_t> dims{d.shape[0], hsize_t(grows), d.shape[2]};
      if (f.dtype == "int32")
        file_->write(group + "/" + f.name, dims, reinterpret_cast<const int32_t*>(whole.data()));
      else
        file_->write(group + "/" + f.name, dims, reinterpret_cast<const float*>(whole.data()));
    });
  }
}

void DatasetWriter::finish(bool write_meta) {
  if (finished_) return;
  finished_ = true;
  run_on_root(comm_, [&] {
    file_->close();
    file_.reset();
    core::commit_temp(path_);
    temp_->keep();
    // Every rank's writer of the dataset job's parts writes the same meta.json into one folder.
    if (write_meta) core::write_shared_text_atomic(dir_ + "/meta.json", meta_.to_json());
  });
}

DatasetMeta read_dataset_meta(const std::string& dir) {
  const std::string meta_path = dir + "/meta.json";
  std::error_code ec;  // a folder that cannot be looked at (EACCES) is found by the read below
  if (!std::filesystem::exists(dir, ec) && !ec)
    throw Error(cat(dir, ": no such folder; a tessera dataset is a folder with meta.json and <split>.h5, made by ",
                    "tessera-cfd's dataset job (decks/cylinder-flow.yaml writes out/cylinder-flow below the working ",
                    "directory) or by tessera-import from foreign data (docs/import.md)"));
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
    throw Error(cat(dir, ": a file, not a folder; a tessera dataset is a folder with meta.json and <split>.h5"));
  std::ifstream in(meta_path);
  if (!in)
    throw Error(cat(meta_path, ": file not found; a tessera dataset is a directory with meta.json and <split>.h5",
                    " (foreign data: convert it with tessera-import, docs/import.md)"));
  std::stringstream ss;
  ss << in.rdbuf();
  return DatasetMeta::from_json(ss.str(), meta_path);
}

DatasetReader::DatasetReader(const std::string& dir, const std::string& split)
    : path_(dir + "/" + split + ".h5"), meta_(read_dataset_meta(dir)) {
  // A split that is not there: the ones that are (a rollout on "test" of an imported dataset
  // whose only split is "train" said "file not found" alone).
  if (std::error_code ec; !std::filesystem::exists(path_, ec) && !ec) {
    std::vector<std::string> splits;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".h5") splits.push_back(e.path().stem().string());
    std::sort(splits.begin(), splits.end());
    std::string names;
    for (const auto& n : splits) names += cat(names.empty() ? "" : ", ", n);
    throw Error(cat(path_, ": file not found: the dataset has no split '", split,
                    "' (its splits: ", names.empty() ? "none" : names, ")"));
  }
  file_ = std::make_unique<H5File>(H5File::open_read(path_));
  // Trajectories are the groups named by a number; other names (a foreign tool's extras) are
  // not trajectories. A number beyond int64 is a damaged file, not a name to pass over.
  for (const auto& name : file_->list("/")) {
    int64_t id = 0;
    const auto [end, failure] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (failure == std::errc::result_out_of_range)
      throw Error(cat(path_, ": group ", name, " is named by a number beyond the range of trajectory ids"));
    if (failure == std::errc() && end == name.data() + name.size()) ids_.push_back(id);
  }
  std::sort(ids_.begin(), ids_.end());
}

DatasetReader::DatasetReader(DatasetReader&&) noexcept = default;
DatasetReader& DatasetReader::operator=(DatasetReader&&) noexcept = default;
DatasetReader::~DatasetReader() = default;

Trajectory DatasetReader::read(int64_t index) const {
  if (!std::binary_search(ids_.begin(), ids_.end(), index))
    throw Error(cat(path_, ": no trajectory ", index, " (the file has ", ids_.size(), ")"));
  Trajectory t;
  for (const auto& f : meta_.fields) {
    const std::string ds = cat("/", index, "/", f.name);
    FieldData d;
    if (f.dtype == "int32")
      d.i32 = file_->read<int32_t>(ds, &d.shape);
    else
      d.f32 = file_->read<float>(ds, &d.shape);
    if (d.shape.size() != 3 || d.shape[2] != hsize_t(f.channels) ||
        d.shape[0] != (f.dynamic ? hsize_t(meta_.trajectory_length) : 1))  // a static field: one row
      throw Error(cat(path_, ": ", ds, " does not match meta.json (expected [", f.dynamic ? meta_.trajectory_length : 1,
                      ", rows, ", f.channels, "])"));
    d.global_rows = d.shape[1];
    t[f.name] = std::move(d);
  }
  return t;
}

std::string DatasetReader::deck_yaml() const {
  // Absent: a dataset another tool wrote. Present but unreadable is an error, not an absent deck.
  const std::vector<std::string> names = file_->attr_names("/");
  if (std::find(names.begin(), names.end(), "tessera_deck") == names.end()) return "";
  return file_->read_attr("/", "tessera_deck");
}

}  // namespace tessera::io
