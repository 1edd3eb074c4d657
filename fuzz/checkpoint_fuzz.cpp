// Fuzz target: training checkpoints (train/checkpoint.cpp, load_checkpoint and
// checkpoint_family) read from an HDF5 file. This is the one torch-side target: it compiles
// train/checkpoint.cpp itself (fuzz/CMakeLists.txt) instead of linking tessera_train, so the
// clang build does not have to build the whole training library.
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "train/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      tessera::fuzz::write_scratch("checkpoint.h5", std::string_view(reinterpret_cast<const char*>(data), size));
  return tessera::fuzz::run_reader([&] {
    tessera::train::load_checkpoint(path);
    tessera::train::checkpoint_family(path);
  });
}
