// Fuzz target: TU graph-classification datasets (io/tu_dataset.cpp). One input carries the
// dataset's files separated by form feeds ('\f'), in the order of kParts; parts past the end of
// the input are absent files (the optional ones may be; the required ones are then reported).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "io/tu_dataset.hpp"

namespace {
constexpr const char* kParts[] = {"A.txt",           "graph_indicator.txt", "graph_labels.txt",
                                  "node_labels.txt", "edge_labels.txt",     "node_attributes.txt"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = tessera::fuzz::split_parts(std::string_view(reinterpret_cast<const char*>(data), size));
  const std::filesystem::path dir = tessera::fuzz::fresh_scratch_dir("FUZZ");
  for (size_t i = 0; i < parts.size() && i < std::size(kParts); ++i)
    tessera::fuzz::write_scratch(std::string("FUZZ/FUZZ_") + kParts[i], parts[i]);
  return tessera::fuzz::run_reader([&] { tessera::io::read_tu_dataset(dir.string()); });
}
