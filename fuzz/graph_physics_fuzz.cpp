// Fuzz target: graph-physics HDF5 datasets (io/foreign_graph_physics.cpp, read_graph_physics), the
// layout of the published MeshGraphNets data as graph-physics converts it. The bytes become an .h5
// file; HDF5 (a system library without sanitizers) reads it in a child process, and tessera's
// checks of the groups, shapes, values and node types are what is instrumented here. dt is given,
// so no meta.json is read. An accepted file is written as a tessera dataset and read back.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "io/dataset.hpp"
#include "io/foreign.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace io = tessera::io;
  const std::string path =
      tessera::fuzz::write_scratch("input.h5", std::string_view(reinterpret_cast<const char*>(data), size));
  const std::filesystem::path out = tessera::fuzz::scratch_dir() / "imported";
  std::filesystem::remove_all(out);  // the previous input's dataset must not be read for this one
  return tessera::fuzz::run_reader([&] {
    io::ImportOptions o;
    o.format = io::ForeignFormat::GraphPhysics;
    o.dt = 0.01;
    const io::ImportedDataset d = io::read_foreign(path, o);
    io::write_imported(d, o, out.string(), "test");
    const io::DatasetReader back(out.string(), "test");
    for (int64_t t : back.trajectories()) back.read(t);
  });
}
