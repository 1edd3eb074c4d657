// Fuzz target: a VTU series (io/foreign_vtu.cpp, read_vtu_series), the other foreign layout a user
// downloads (meshio and ParaView write it). One input carries a trajectory's folder, its files
// separated by form feeds ('\f'): part 0 is series.pvd (absent when empty, and then the folder's
// loose .vtu files are the steps), parts 1, 2, ... are step_0.vtu, step_1.vtu, ... VTK reads each
// .vtu in a child process (a crash inside VTK becomes an Error there), so what is fuzzed with
// coverage is tessera's side: the .pvd and folder rules, the header checks before VTK reads, and
// the checks of what VTK returns. An accepted series is written as a tessera dataset and read back.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "fuzz/import_round_trip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = tessera::fuzz::split_parts(std::string_view(reinterpret_cast<const char*>(data), size));
  const std::filesystem::path dir = tessera::fuzz::fresh_scratch_dir("series");
  if (!parts[0].empty()) tessera::fuzz::write_scratch("series/series.pvd", parts[0]);
  for (size_t k = 1; k < parts.size() && k <= 16; ++k)
    tessera::fuzz::write_scratch("series/step_" + std::to_string(k - 1) + ".vtu", parts[k]);
  return tessera::fuzz::run_reader([&] {
    tessera::io::ImportOptions o;
    o.format = tessera::io::ForeignFormat::VtuSeries;
    o.dt = 0.01;  // a folder of loose steps has no time stamps
    tessera::fuzz::import_round_trip(dir.string(), o);
  });
}
