// io: node-classification datasets in the Planetoid layout (read_planetoid's checks, the
// num_classes attribute) and their contents' fingerprint.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/fingerprint.hpp"
#include "io/h5.hpp"
#include "io/planetoid.hpp"
#include "mesh/graph.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;

static const std::string planetoid_out = tessera::test::test_out();

TEST_CASE("a node dataset's fingerprint follows its contents", "[planetoid]") {
  io::NodeDataset d;
  d.name = "g";
  d.num_nodes = 3, d.num_features = 1, d.num_classes = 2;
  d.x = {0.5f, 1.0f, 2.0f};
  d.y = {0, 1, 0};
  d.graph = mesh::graph_from_pairs(3, {{0, 1}, {1, 2}}, true);
  d.train_mask = {1, 0, 0}, d.val_mask = {0, 1, 0}, d.test_mask = {0, 0, 1};
  const std::string f = io::node_dataset_fingerprint(d);
  CHECK(f.size() == 8);
  CHECK(io::node_dataset_fingerprint(io::NodeDataset(d)) == f);
  // Each part counts: labels permuted, one feature, an edge moved, masks swapped.
  io::NodeDataset e = d;
  std::swap(e.y[0], e.y[1]);
  CHECK(io::node_dataset_fingerprint(e) != f);
  e = d, e.x[2] = 2.5f;
  CHECK(io::node_dataset_fingerprint(e) != f);
  e = d, e.graph = mesh::graph_from_pairs(3, {{0, 1}, {0, 2}}, true);
  CHECK(io::node_dataset_fingerprint(e) != f);
  e = d, std::swap(e.val_mask, e.test_mask);
  CHECK(io::node_dataset_fingerprint(e) != f);
  e = d, e.name = "other";  // the name is data_identity's part, not the contents'
  CHECK(io::node_dataset_fingerprint(e) == f);
}

TEST_CASE("read_planetoid names a bad node index and a non-finite feature", "[hdf5][planetoid]") {
  // 3 nodes, 2 features (or none), 2 edges; the first feature, the first edge's source, the labels
  // and the validation mask as given.
  auto write = [&](const std::string& name, float x00, int64_t source0, std::vector<int64_t> y = {0, 1, 0},
                   std::vector<uint8_t> val = {1, 0, 0}, hsize_t features = 2, double num_classes = 0) {
    const std::string path = planetoid_out + "/" + name;
    std::filesystem::remove(path);
    io::H5File f = io::H5File::create(path);
    const std::vector<float> x{x00, 0, 1, 1, 0, 1};
    const std::vector<int64_t> edges{source0, 1, 1, 2};
    const std::vector<uint8_t> mask{1, 0, 0};
    f.write("x", {3, features}, x.data());
    f.write("y", {3}, y.data());
    f.write("edge_index", {2, 2}, edges.data());
    for (const char* m : {"train_mask", "test_mask"}) f.write(m, {3}, mask.data());
    f.write("val_mask", {3}, val.data());
    // A num_classes attribute as PyTorch Geometric's exports write it (an integer), or a float.
    if (num_classes == std::floor(num_classes) && num_classes != 0) {
      f.write_int64_attr("/", "num_classes", int64_t(num_classes));
      CHECK(f.read_attr("/", "num_classes") == std::to_string(int64_t(num_classes)));  // read in-process
    } else if (num_classes != 0) {
      f.write_double_attr("/", "num_classes", num_classes);
      CHECK(f.read_attr("/", "num_classes") == "2.5");
    }
    f.close();
    return path;
  };
  CHECK(io::read_planetoid(write("planetoid_ok.h5", 1, 0)).num_nodes == 3);
  CHECK_THROWS_WITH(
      io::read_planetoid(write("planetoid_edge.h5", 1, -1)),
      Catch::EndsWith("planetoid_edge.h5: edge_index column 0 holds node -1; expected node indices 0 to 2"));
  CHECK_THROWS_WITH(io::read_planetoid(write("planetoid_nan.h5", NAN, 0)),
                    Catch::EndsWith("planetoid_nan.h5: x holds nan at node 0, feature 0; expected finite features"));
  // Found by a bad-input review (2026-12-05): no feature columns crashed in torch; an empty split
  // scored 0; -1 (unlabelled, as the Planetoid layout has it) was refused even outside the masks.
  CHECK_THROWS_WITH(io::read_planetoid(write("planetoid_no_features.h5", 1, 0, {0, 1, 0}, {1, 0, 0}, 0)),
                    Catch::EndsWith("x is [3, 0]; expected at least one node and one feature"));
  CHECK_THROWS_WITH(io::read_planetoid(write("planetoid_no_val.h5", 1, 0, {0, 1, 0}, {0, 0, 0})),
                    Catch::EndsWith("val_mask selects no node; training needs training, validation and test nodes"));
  CHECK(io::read_planetoid(write("planetoid_unlabelled.h5", 1, 0, {0, 1, -1})).num_classes == 2);
  // The file's num_classes attribute counts a class no node is labelled with; it cannot be fewer
  // than y's labels, nor a fraction (before 2026-12-07 it was not read: 2 classes here).
  CHECK(io::read_planetoid(write("planetoid_classes.h5", 1, 0, {0, 1, 0}, {1, 0, 0}, 2, 3)).num_classes == 3);
  CHECK_THROWS_WITH(
      io::read_planetoid(write("planetoid_too_few_classes.h5", 1, 0, {0, 1, 0}, {1, 0, 0}, 2, 1)),
      Catch::EndsWith("planetoid_too_few_classes.h5: attribute num_classes is 1, but y holds label 1; expected labels "
                      "0 to 0"));
  CHECK_THROWS_WITH(io::read_planetoid(write("planetoid_half_class.h5", 1, 0, {0, 1, 0}, {1, 0, 0}, 2, 2.5)),
                    Catch::EndsWith("attribute num_classes is '2.5'; expected a whole number from 1 to 3 (the nodes)"));
  CHECK_THROWS_WITH(io::read_planetoid(write("planetoid_unlabelled_val.h5", 1, 0, {0, 1, -1}, {0, 0, 1})),
                    Catch::EndsWith("val_mask selects node 2, which is unlabelled (y = -1)"));
  CHECK_THROWS_WITH(io::read_planetoid(write("planetoid_bad_label.h5", 1, 0, {0, 1, -2})),
                    Catch::Contains("y holds label -2; expected class indices 0 to 2, or -1 for an unlabelled node"));
  // A float y: its labels are whole numbers or refused (3.5 was truncated to 3 without a word).
  const std::string floats = planetoid_out + "/planetoid_float_y.h5";
  {
    std::filesystem::remove(floats);
    io::H5File f = io::H5File::create(floats);
    const std::vector<float> x{1, 0, 1, 1, 0, 1};
    const std::vector<double> y{0, 1.5, 0};
    const std::vector<int64_t> edges{0, 1, 1, 2};
    const std::vector<uint8_t> mask{1, 0, 0};
    f.write("x", {3, 2}, x.data());
    f.write("y", {3}, y.data());
    f.write("edge_index", {2, 2}, edges.data());
    for (const char* m : {"train_mask", "val_mask", "test_mask"}) f.write(m, {3}, mask.data());
    f.close();
  }
  CHECK_THROWS_WITH(
      io::read_planetoid(floats),
      Catch::EndsWith("planetoid_float_y.h5: y holds 1.5 at node 1; expected whole class indices (or -1)"));
}
