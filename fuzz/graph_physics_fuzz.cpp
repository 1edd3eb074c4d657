// Fuzz target: graph-physics HDF5 datasets (io/foreign_graph_physics.cpp, read_graph_physics), the
// layout of the published MeshGraphNets data as graph-physics converts it. The bytes become an .h5
// file; HDF5 (a system library without sanitizers) reads it in a child process, and tessera's
// checks of the groups, shapes, values and node types are what is instrumented here. dt is given,
// so no meta.json is read. An accepted file is written as a tessera dataset and read back
// (import_round_trip).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "fuzz/import_round_trip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      tessera::fuzz::write_scratch("input.h5", std::string_view(reinterpret_cast<const char*>(data), size));
  return tessera::fuzz::run_reader([&] {
    tessera::io::ImportOptions o;
    o.format = tessera::io::ForeignFormat::GraphPhysics;
    o.dt = 0.01;
    tessera::fuzz::import_round_trip(path, o);
  });
}
