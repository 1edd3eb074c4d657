// Writes the planetoid target's seed (fuzz/corpus/planetoid/tiny.h5): a 4-node graph with 3
// features, 2 classes and all six datasets, through tessera's own HDF5 writer. Run once; the
// file is committed, this program is kept so the seed can be made again.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "io/h5.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.h5\n", argv[0]);
    return 2;
  }
  auto f = tessera::io::H5File::create(argv[1]);
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
  return 0;
}
