// Shared by the foreign-data fuzz targets (xdmf, vtu, graph_physics): what io::read_foreign accepts
// must also survive io::write_imported and tessera's own dataset reader.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz/fuzz_input.hpp"
#include "io/dataset.hpp"
#include "io/foreign.hpp"

namespace tessera::fuzz {

// Reads `source`, writes it as a tessera dataset in the scratch folder (emptied first: the previous
// input's dataset must not be read for this one) and reads every trajectory back.
inline void import_round_trip(const std::string& source, const io::ImportOptions& o) {
  const std::filesystem::path out = scratch_dir() / "imported";
  std::filesystem::remove_all(out);
  const io::ImportedDataset d = io::read_foreign(source, o);
  io::write_imported(d, o, out.string(), "test");
  const io::DatasetReader back(out.string(), "test");
  for (int64_t t : back.trajectories()) back.read(t);
}

}  // namespace tessera::fuzz
