// HDF5 layer, graph-physics datasets and XDMF series, read back through the HDF5 C API.
// Leaves <test_out>/dataset and <test_out>/xdmf for the h5py/meshio interop test.
#include <hdf5.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/dataset.hpp"
#include "io/fingerprint.hpp"
#include "io/h5.hpp"
#include "io/xdmf.hpp"
#include "tests/file_size_limit.hpp"
#include "tests/mesh_fixtures.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;
static const std::string h5_out = tessera::test::test_out();

// Reads a dataset with the raw C API, independent of io::H5File::read.
static std::vector<double> raw_read(const std::string& file, const std::string& dset, std::vector<hsize_t>& dims) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hid_t d = H5Dopen2(f, dset.c_str(), H5P_DEFAULT);
  REQUIRE(d >= 0);
  hid_t s = H5Dget_space(d);
  dims.resize(H5Sget_simple_extent_ndims(s));
  H5Sget_simple_extent_dims(s, dims.data(), nullptr);
  hsize_t n = 1;
  for (auto x : dims) n *= x;
  std::vector<double> v(n);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

TEST_CASE("H5File writes and reads arrays, groups and attributes", "[hdf5]") {
  std::filesystem::create_directories(h5_out);
  const std::string path = h5_out + "/basic.h5";
  {
    io::H5File f = io::H5File::create(path);
    std::vector<int32_t> a{1, 2, 3, 4, 5, 6};
    f.write("/g/sub/a", {2, 3}, a.data());
    std::vector<double> b{0.5, -1.5};
    f.write("/b", {2}, b.data());
    f.write_attr("/g", "note", "hello: world");
  }
  io::H5File r = io::H5File::open_read(path);
  std::vector<hsize_t> dims;
  CHECK(r.read<int32_t>("/g/sub/a", &dims) == std::vector<int32_t>{1, 2, 3, 4, 5, 6});
  CHECK(dims == std::vector<hsize_t>{2, 3});
  CHECK(r.read<double>("/b") == std::vector<double>{0.5, -1.5});
  CHECK(r.read<float>("/g/sub/a")[5] == 6.0f);  // HDF5 converts on read
  CHECK(r.read_attr("/g", "note") == "hello: world");
  CHECK(r.exists("/g/sub/a"));
  CHECK_FALSE(r.exists("/g/nope/a"));
  CHECK(r.list("/") == std::vector<std::string>{"b", "g"});
  CHECK_THROWS_WITH(r.read<double>("/missing"), Catch::Contains("dataset /missing not found"));
  CHECK_THROWS_WITH(io::H5File::open_read(h5_out + "/none.h5"), Catch::Contains("file not found"));
  core::write_text_atomic(h5_out + "/not_h5.h5", "plain text");
  CHECK_THROWS_WITH(io::H5File::open_read(h5_out + "/not_h5.h5"), Catch::Contains("not a readable HDF5 file"));
}

static io::Trajectory make_trajectory(const mesh::Mesh& m, int64_t steps, float seed) {
  io::Trajectory t;
  const hsize_t n = m.num_nodes();
  io::add_mesh_fields(t, m);
  auto& vel = t["velocity"];
  vel.shape = {hsize_t(steps), n, 2};
  for (hsize_t k = 0; k < steps * n * 2; ++k) vel.f32.push_back(seed + 0.001f * k);
  auto& p = t["pressure"];
  p.shape = {hsize_t(steps), n, 1};
  for (hsize_t k = 0; k < steps * n; ++k) p.f32.push_back(-seed - 0.01f * k);
  return t;
}

TEST_CASE("graph-physics dataset round trip", "[hdf5][dataset]") {
  const std::string dir = h5_out + "/dataset";
  std::filesystem::remove_all(dir);
  mesh::Mesh m = test::grid_mesh(4, 3);
  m.node_type[0] = mesh::kInflow;
  auto meta = io::DatasetMeta::cylinder_flow(5, 0.01);
  {
    io::DatasetWriter w(dir, "train", meta, Comm(), "deck: yes\n");
    for (int i = 0; i < 3; ++i) w.write(i, make_trajectory(m, 5, float(i)));
    CHECK_FALSE(std::filesystem::exists(dir + "/train.h5"));  // not visible until finished
    w.finish();
  }
  CHECK(std::filesystem::exists(dir + "/train.h5"));
  CHECK_FALSE(std::filesystem::exists(dir + "/train.h5.tmp"));
  io::DatasetReader r(dir, "train");
  CHECK(r.trajectories() == std::vector<int64_t>{0, 1, 2});
  CHECK(r.meta().trajectory_length == 5);
  CHECK(r.meta().dt == 0.01);
  CHECK(r.deck_yaml() == "deck: yes\n");
  io::Trajectory t = r.read(2), e = make_trajectory(m, 5, 2.0f);
  for (const auto& [name, f] : e) {
    INFO(name);
    CHECK(t[name].shape == f.shape);
    CHECK(t[name].f32 == f.f32);
    CHECK(t[name].i32 == f.i32);
  }
  CHECK_THROWS_WITH(r.read(7), Catch::Contains("no trajectory 7"));
  // Groups not named by a number are not trajectories; one named by a number beyond int64 is damage.
  {
    const std::string copy = h5_out + "/dataset_extra_groups";
    std::filesystem::remove_all(copy);
    std::filesystem::copy(dir, copy);
    const hid_t f = H5Fopen((copy + "/train.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(f >= 0);
    H5Gclose(H5Gcreate2(f, "extras", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Gclose(H5Gcreate2(f, "3b", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    CHECK(io::DatasetReader(copy, "train").trajectories() == std::vector<int64_t>{0, 1, 2});
    const hid_t g = H5Fopen((copy + "/train.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(g, "99999999999999999999", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(g);
    CHECK_THROWS_WITH(io::DatasetReader(copy, "train"),
                      Catch::Contains("group 99999999999999999999 is named by a number beyond the range"));
  }
  // A dataset written without a deck (another tool's) has none to give.
  {
    io::DatasetWriter plain(h5_out + "/dataset_no_deck", "train", meta);
    plain.write(0, make_trajectory(m, 5, 0.0f));
    plain.finish();
    CHECK(io::DatasetReader(h5_out + "/dataset_no_deck", "train").deck_yaml().empty());
  }
  // A dataset that is never finished (its run failed) leaves no temporary behind.
  { io::DatasetWriter unfinished(dir, "valid", meta); }
  CHECK_FALSE(std::filesystem::exists(dir + "/valid.h5.tmp"));
  // Shapes are checked on write.
  io::DatasetWriter bad(h5_out + "/bad_dataset", "train", meta);
  auto wrong = make_trajectory(m, 4, 0.0f);
  CHECK_THROWS_WITH(bad.write(0, wrong), Catch::Contains("field 'velocity' must be shaped [5, rows, 2]"));
  auto missing = make_trajectory(m, 5, 0.0f);
  missing.erase("pressure");
  CHECK_THROWS_WITH(bad.write(0, missing), Catch::Contains("trajectory 0 lacks field 'pressure'"));
  CHECK_THROWS_WITH(io::DatasetReader(h5_out + "/nowhere", "train"), Catch::Contains("nowhere: no such folder"));
  CHECK_THROWS_WITH(io::DatasetReader(dir + "/train.h5", "train"), Catch::Contains("train.h5: a file, not a folder"));
  // meta.json's dt is the step a model learns: a non-positive one is refused where it is read.
  CHECK_THROWS_WITH(
      io::DatasetMeta::from_json(R"({"dt": -1, "trajectory_length": 5, "field_names": [], "features": {}})", "m.json"),
      "m.json: \"dt\" is -1; expected a positive time step");
  CHECK_THROWS_WITH(
      io::DatasetMeta::from_json(R"({"dt": 0.1, "trajectory_length": 0, "field_names": [], "features": {}})", "m.json"),
      "m.json: \"trajectory_length\" is 0; expected at least 1");
  // graph-physics data keeps a meta.json with dt alone beside its .h5 file (yaml-cpp said "bad conversion").
  CHECK_THROWS_WITH(io::DatasetMeta::from_json(R"({"dt": 0.1})", "m.json"),
                    "m.json: not a tessera dataset's meta.json: no \"trajectory_length\", \"field_names\", "
                    "\"features\" (a meta.json of graph-physics data beside its .h5 file: convert that file with "
                    "tessera-import, docs/import.md)");
  // yaml-cpp's own message for input nested past its depth limit is "bad file".
  CHECK_THROWS_WITH(io::DatasetMeta::from_json(std::string(600, '['), "m.json"),
                    "m.json: not a valid dataset meta.json (need dt, trajectory_length, field_names, features): "
                    "yaml-cpp: error at line 1, column 1: nested 500 levels deep, past yaml-cpp's limit");
}

// Checkpoints tell training trajectories by these (train/trained_on.hpp): equal data must give
// equal text, through a file too, and any change in what a model reads other text.
TEST_CASE("trajectory_fingerprint tells trajectories apart by the fields a model reads", "[hdf5][dataset]") {
  mesh::Mesh m = test::grid_mesh(4, 3);
  const io::Trajectory t = make_trajectory(m, 5, 1.0f);
  const std::string f = io::trajectory_fingerprint(t);
  CHECK(f.size() == 8);
  CHECK(f.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(io::trajectory_fingerprint(make_trajectory(m, 5, 1.0f)) == f);
  CHECK(io::trajectory_fingerprint(make_trajectory(m, 5, 2.0f)) != f);
  {  // through a dataset file
    const std::string dir = h5_out + "/fingerprint";
    std::filesystem::remove_all(dir);
    io::DatasetWriter w(dir, "train", io::DatasetMeta::cylinder_flow(5, 0.01));
    w.write(0, t);
    w.finish();
    CHECK(io::trajectory_fingerprint(io::DatasetReader(dir, "train").read(0)) == f);
  }
  io::Trajectory one_value = t;  // the last velocity value, one float step up
  float& last = one_value["velocity"].f32.back();
  last = std::nextafter(last, 1e30f);
  CHECK(io::trajectory_fingerprint(one_value) != f);
  io::Trajectory types = t;
  types["node_type"].i32[1] += 1;
  CHECK(io::trajectory_fingerprint(types) != f);
  io::Trajectory reshaped = t;  // the same values as [T, 2N, 1]
  reshaped["velocity"].shape = {t.at("velocity").shape[0], t.at("velocity").shape[1] * 2, 1};
  CHECK(io::trajectory_fingerprint(reshaped) != f);
  // Fields a model does not read (pressure) do not count: an import without them is the same data.
  io::Trajectory no_pressure = t;
  REQUIRE(no_pressure.erase("pressure") == 1);
  CHECK(io::trajectory_fingerprint(no_pressure) == f);
}

// The index was rewritten whole after every step, the cost growing with the square of the steps
// (a 4,000-step rollout wrote 7 GB of .xmf). It is rewritten at a pace (core/rewrite_pacer.hpp):
// after every step until the rewrites have taken 0.1 s, then far fewer times than there are
// steps, and finish() lists every step. (The other series tests read indexes of a few steps, kept
// up to date, before finish.)
TEST_CASE("XDMF series: the index is rewritten at a pace, and whole at finish", "[hdf5][xdmf]") {
  const std::string dir = h5_out + "/xdmf_paced";
  std::filesystem::remove_all(dir);
  mesh::Mesh m = test::grid_mesh(3, 2);
  io::XdmfSeries s(dir + "/series", m);
  const int steps = 3000;
  for (int step = 0; step < steps; ++step)
    s.write_step(0.1 * step, {{"p", 1, false, std::vector<double>(m.num_nodes(), step)}});
  INFO(s.index_writes() << " rewrites of the index for " << steps << " steps");
  CHECK(s.index_writes() > 10);         // kept up to date while cheap
  CHECK(s.index_writes() < steps / 2);  // not at every step once it is not
  s.finish();
  std::ifstream in(s.xmf_path());
  const std::string xml{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  size_t listed = 0;
  for (size_t at = xml.find("<Grid Name=\"step_"); at != std::string::npos; at = xml.find("<Grid Name=\"step_", at + 1))
    ++listed;
  CHECK(listed == steps);
  CHECK(xml.find("series_002999.h5:/p") != std::string::npos);
  // A series given up without finish() (an error unwinding it) indexes what it lags when destroyed.
  {
    io::XdmfSeries dropped(dir + "/dropped", m);
    for (int step = 0; step < steps; ++step)
      dropped.write_step(0.1 * step, {{"p", 1, false, std::vector<double>(m.num_nodes(), step)}});
  }
  std::ifstream again(dir + "/dropped.xmf");
  const std::string dropped{std::istreambuf_iterator<char>(again), std::istreambuf_iterator<char>()};
  CHECK(dropped.find("dropped_002999.h5:/p") != std::string::npos);
}

TEST_CASE("XDMF series: heavy data and index", "[hdf5][xdmf]") {
  const std::string dir = h5_out + "/xdmf";
  std::filesystem::remove_all(dir);
  mesh::Mesh m = test::grid_mesh(3, 2);
  io::Field nt{"node_type", 1, false, std::vector<double>(m.num_nodes(), 6.0)};
  io::XdmfSeries s(dir + "/series", m, Comm(), {nt}, "k: v\n");
  for (int step = 0; step < 3; ++step) {
    io::Field u{"velocity", 2, false, {}}, p{"pressure", 1, true, {}};
    for (int64_t i = 0; i < m.num_nodes(); ++i) u.data.insert(u.data.end(), {double(i), double(step)});
    for (int64_t c = 0; c < m.num_cells(); ++c) p.data.push_back(c * 0.5 + step);
    s.write_step(0.1 * step, {u, p});
  }
  std::vector<hsize_t> dims;
  auto xyz = raw_read(dir + "/series_mesh.h5", "/coords", dims);
  CHECK(dims == std::vector<hsize_t>{12, 3});
  CHECK(xyz[3 * 5] == m.coords[2 * 5]);
  CHECK(xyz[3 * 5 + 2] == 0.0);
  auto cells = raw_read(dir + "/series_mesh.h5", "/cells", dims);
  CHECK(dims == std::vector<hsize_t>{12, 3});
  CHECK(cells[7] == double(m.cells[7]));
  auto vel = raw_read(dir + "/series_000002.h5", "/velocity", dims);
  CHECK(dims == std::vector<hsize_t>{12, 3});  // 2D vectors padded to 3 components
  CHECK(vel[3 * 4] == 4.0);
  CHECK(vel[3 * 4 + 1] == 2.0);
  CHECK(vel[3 * 4 + 2] == 0.0);
  auto pr = raw_read(dir + "/series_000001.h5", "/pressure", dims);
  CHECK(pr[3] == 2.5);
  std::ifstream in(dir + "/series.xmf");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string xmf = ss.str();
  CHECK(xmf.find("CollectionType=\"Temporal\"") != std::string::npos);
  // 15 significant digits (core::time_text; was 17 digits: 0.20000000000000001).
  CHECK(xmf.find("<Time Value=\"0.2\"/>") != std::string::npos);
  CHECK(xmf.find("series_000002.h5:/velocity") != std::string::npos);
  CHECK(xmf.find("Center=\"Cell\"") != std::string::npos);
  CHECK(xmf.find("<Information Name=\"tessera_deck\" Value=\"k: v&#10;\"/>") != std::string::npos);
  for (const auto& e : std::filesystem::directory_iterator(dir)) CHECK(e.path().extension() != ".tmp");
  io::Field short_field{"bad", 1, false, {1.0}};
  CHECK_THROWS_WITH(s.write_step(1.0, {short_field}), Catch::Contains("field 'bad' has 1 values; expected 12 x 1"));
  CHECK_FALSE(std::filesystem::exists(dir + "/series_000003.h5.tmp"));  // the failed step's temporary is gone
  // The disk full while the mesh file is written: an error, and no file or temporary left.
  const mesh::Mesh big = test::grid_mesh(200, 200);  // 40,401 nodes: ~1 MB of coordinates
  {
    tessera::test::FileSizeLimit full(64 * 1024);
    CHECK_THROWS_WITH(io::XdmfSeries(dir + "/full", big, Comm()),
                      Catch::Contains("full_mesh.h5.tmp: writing") && Catch::Contains("File too large"));
  }
  CHECK_FALSE(std::filesystem::exists(dir + "/full_mesh.h5"));
  CHECK_FALSE(std::filesystem::exists(dir + "/full_mesh.h5.tmp"));
}

TEST_CASE("H5File: a file whose closing writes would fail is one Error, and HDF5 goes on", "[hdf5]") {
  // HDF5 1.10 leaves a file whose close failed half torn down: it stayed open (H5Fget_obj_count),
  // a second close crashed, and so did HDF5's own at exit. Twenty datasets of 8 kB are written,
  // then attributes whose metadata HDF5 places after them and holds until the close; then the
  // file may not grow (the disk is full) while HDF5 still has that metadata to write.
  const auto open_files = [] { return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE); };
  const ssize_t before = open_files();
  const std::vector<float> block(2000, 1.5f);
  const std::string path = h5_out + "/closing_full.h5";
  auto fill = [&](io::H5File& f) {
    for (int k = 0; k < 20; ++k) f.write<float>("/d" + std::to_string(k), {2000}, block.data());
    for (int k = 0; k < 20; ++k) f.write_attr("/d" + std::to_string(k), "note", std::string(300, char('a' + k)));
    return std::filesystem::file_size(path);
  };
  {
    io::H5File f = io::H5File::create(path);
    tessera::test::FileSizeLimit full(fill(f));
    CHECK_THROWS_WITH(f.close(),
                      Catch::Contains("closing_full.h5: cannot finish writing the HDF5 file: File too large"));
  }
  CHECK(open_files() == before);
  {
    std::optional<tessera::test::FileSizeLimit> full;  // outlives the file
    io::H5File f = io::H5File::create(path);           // the destructor's close, unchecked, of an abandoned file
    full.emplace(fill(f));
  }
  CHECK(open_files() == before);
  // The disk full during a write: HDF5 has allocated the dataset's space, unwritten, and its close
  // of the abandoned file truncates to it (which /dev/null, the first sink tried, refuses).
  {
    std::optional<tessera::test::FileSizeLimit> full;
    io::H5File f = io::H5File::create(path);
    full.emplace(fill(f));
    const std::vector<float> large(200000, 2.5f);
    CHECK_THROWS_WITH(f.write<float>("/large", {200000}, large.data()), Catch::Contains("File too large"));
  }
  CHECK(open_files() == before);
  // With room, the same file closes and reads back whole.
  {
    io::H5File f = io::H5File::create(path);
    fill(f);
    f.close();
  }
  io::H5File back = io::H5File::open_read(path);
  CHECK(back.read<float>("/d19") == block);
  CHECK(back.read_attr("/d19", "note") == std::string(300, 't'));
}

TEST_CASE("H5File: files on which HDF5 itself crashes are one Error", "[hdf5]") {
  // Found by fuzz_planetoid and fuzz_checkpoint: HDF5 1.10 crashes inside the library on these
  // damaged files (H5F__accum_read, H5D__contig_read, attribute decoding); HDF5 now decodes in a
  // child process (io::H5Snapshot). Each reader's own checks follow; what matters is one Error.
  const std::string bad = tessera::test::source_dir() + "/tests/data/bad/fuzz/";
  for (const std::string name :
       {"planetoid/hdf5_accum_read_segv.h5", "planetoid/hdf5_contiguous_read_segv.h5",
        "checkpoint/hdf5_attribute_decode_segv.h5", "checkpoint/hdf5_attribute_heap_overflow.h5"}) {
    INFO(name);
    try {
      io::H5File f = io::H5File::open_read(bad + name);
      for (const auto& top : f.list("/"))
        for (const auto& obj :
             f.exists("/" + top + "/") && top == "tensors" ? f.list("/tensors") : std::vector<std::string>{})
          f.read<double>("/tensors/" + obj);
      for (const char* d : {"x", "y", "edge_index", "train_mask"}) f.read<double>(d);
      FAIL("read without an error");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::StartsWith(bad + name + ": "));
      WARN(e.what());
    }
  }
}

TEST_CASE("H5File: a snapshot converts and clips like HDF5, and defers nothing small", "[hdf5]") {
  const std::string path = h5_out + "/convert.h5";
  {
    io::H5File f = io::H5File::create(path);
    std::vector<int64_t> big{-300, -1, 0, 255, 70000, int64_t{1} << 40};
    f.write("/ints", {6}, big.data());
    std::vector<double> real{-1e300, -2.7, 0.5, 3e9, 1e300};
    f.write("/reals", {5}, real.data());
  }
  io::H5File r = io::H5File::open_read(path);
  // Read the same datasets with the C API's conversion as the reference.
  auto hdf5_read = [&](const char* dset, hid_t type, size_t bytes) {
    std::vector<char> v(bytes);
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
    H5Fclose(f);
    return v;
  };
  auto as = [](const std::vector<char>& raw, auto zero) {
    std::vector<decltype(zero)> v(raw.size() / sizeof(zero));
    std::memcpy(v.data(), raw.data(), raw.size());
    return v;
  };
  CHECK(r.read<uint8_t>("/ints") == as(hdf5_read("/ints", H5T_NATIVE_UINT8, 6), uint8_t{}));
  CHECK(r.read<int32_t>("/ints") == as(hdf5_read("/ints", H5T_NATIVE_INT32, 24), int32_t{}));
  CHECK(r.read<float>("/ints") == as(hdf5_read("/ints", H5T_NATIVE_FLOAT, 24), float{}));
  CHECK(r.read<int32_t>("/reals") == as(hdf5_read("/reals", H5T_NATIVE_INT32, 20), int32_t{}));
  CHECK(r.read<int64_t>("/reals") == as(hdf5_read("/reals", H5T_NATIVE_INT64, 40), int64_t{}));
  // Both datasets are small: their elements are in the snapshot, not left in the file.
  const auto snap = io::H5Snapshot::take(path);
  for (const char* name : {"/ints", "/reals"}) {
    INFO(name);
    REQUIRE(snap->objects.count(name));
    CHECK_FALSE(snap->objects.at(name).deferred);
    CHECK(snap->objects.at(name).data.size() == (name == std::string("/ints") ? 6 : 5) * 8u);
  }
}

TEST_CASE("H5File: data beyond the snapshot's budget is read from the file when asked for", "[hdf5]") {
  const std::string path = h5_out + "/deferred.h5";
  const size_t n = io::H5Snapshot::kDataBudget / sizeof(double) + 1000;
  std::vector<double> big(n);
  for (size_t i = 0; i < n; ++i) big[i] = 0.25 * static_cast<double>(i % 1000003);
  {
    io::H5File f = io::H5File::create(path);
    f.write("/big", {n}, big.data());
    f.write_attr("/big", "unit", "m/s");
  }
  io::H5File r = io::H5File::open_read(path);
  std::vector<hsize_t> dims;
  CHECK(r.read<double>("/big", &dims) == big);
  CHECK(dims == std::vector<hsize_t>{n});
  CHECK(r.read_attr("/big", "unit") == "m/s");
  std::filesystem::remove(path);
}
