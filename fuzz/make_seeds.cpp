// Writes the binary seeds of the HDF5 targets through tessera's own HDF5 writer (no torch, no
// h5py needed): fuzz/corpus/planetoid/tiny.h5, a 4-node graph with 3 features, 2 classes and all
// six datasets, and fuzz/corpus/checkpoint/tiny.h5, a checkpoint in train/checkpoint.cpp's layout
// (/tensors/<name> with "dtype" and "scalar" attributes, string attributes on the root), and
// fuzz/corpus/graph_physics/tiny.h5, two 3-step trajectories of a 6-node, 4-triangle mesh in the
// graph-physics layout (io/foreign.hpp), one with node types and pressure, one velocity-only. Run once
// as `fuzz_make_seeds <repository root>`; the files are committed, this program is kept so they
// can be made again.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/h5.hpp"

namespace {

void write_planetoid(const std::string& path) {
  auto f = tessera::io::H5File::create(path);
  const std::vector<float> x = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0};
  const std::vector<int64_t> y = {0, 1, 1, 0};
  const std::vector<int64_t> edges = {0, 1, 1, 2, 2, 3, 1, 0, 2, 1, 3, 2};  // row 0 sources, row 1 targets
  const std::vector<uint8_t> train = {1, 1, 0, 0}, val = {0, 0, 1, 0}, test = {0, 0, 0, 1};
  f.write<float>("x", {4, 3}, x.data());
  f.write<int64_t>("y", {4}, y.data());
  f.write<int64_t>("edge_index", {2, 6}, edges.data());
  f.write<uint8_t>("train_mask", {4}, train.data());
  f.write<uint8_t>("val_mask", {4}, val.data());
  f.write<uint8_t>("test_mask", {4}, test.data());
}

void write_checkpoint(const std::string& path) {
  auto f = tessera::io::H5File::create(path);
  f.create_group("/tensors");
  const std::vector<float> weight = {0.5f, -1.0f, 2.0f, 0.25f, 1.5f, -0.75f};
  const std::vector<double> mean = {0.1, 0.2};
  const std::vector<int64_t> step = {7};
  const std::vector<uint8_t> rng = {1, 2, 3, 4};
  auto tensor = [&](const std::string& name, const char* dtype, const char* scalar) {
    f.write_attr("/tensors/" + name, "dtype", dtype);
    f.write_attr("/tensors/" + name, "scalar", scalar);
  };
  f.write<float>("/tensors/model.weight", {2, 3}, weight.data());
  tensor("model.weight", "Float", "0");
  f.write<double>("/tensors/normalizer.mean", {2}, mean.data());
  tensor("normalizer.mean", "Double", "0");
  f.write<int64_t>("/tensors/optimizer.step", {1}, step.data());
  tensor("optimizer.step", "Long", "1");
  f.write<uint8_t>("/tensors/rng", {4}, rng.data());
  tensor("rng", "Byte", "0");
  f.write_attr("/", "family", "transformer");
  f.write_attr("/", "step", "7");
}

void write_graph_physics(const std::string& path) {
  auto f = tessera::io::H5File::create(path);
  const std::vector<double> pos = {0, 0, 1, 0, 2, 0, 0, 1, 1, 1, 2, 1};
  const std::vector<int32_t> cells = {0, 1, 4, 0, 4, 3, 1, 2, 5, 1, 5, 4};
  const std::vector<int32_t> node_type = {6, 6, 6, 4, 0, 5};
  std::vector<float> velocity, pressure;
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 6; ++i) {
      velocity.push_back(float(pos[i * 2 + 1] * (1 + 0.1 * t)));
      velocity.push_back(0.01f * float(i % 3));
      pressure.push_back(float(1 - pos[i * 2] + t));
    }
  for (const char* g : {"/0", "/1"}) {
    f.write<double>(std::string(g) + "/mesh_pos", {6, 2}, pos.data());
    f.write<int32_t>(std::string(g) + "/cells", {4, 3}, cells.data());
    f.write<float>(std::string(g) + "/velocity", {3, 6, 2}, velocity.data());
  }
  f.write<int32_t>("/0/node_type", {6, 1}, node_type.data());
  f.write<float>("/0/pressure", {3, 6, 1}, pressure.data());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s REPOSITORY_ROOT\n", argv[0]);
    return 2;
  }
  const std::filesystem::path corpus = std::filesystem::path(argv[1]) / "fuzz" / "corpus";
  std::filesystem::create_directories(corpus / "planetoid");
  std::filesystem::create_directories(corpus / "checkpoint");
  std::filesystem::create_directories(corpus / "graph_physics");
  write_planetoid((corpus / "planetoid" / "tiny.h5").string());
  write_checkpoint((corpus / "checkpoint" / "tiny.h5").string());
  write_graph_physics((corpus / "graph_physics" / "tiny.h5").string());
  return 0;
}
