// Fuzz target: a dataset's meta.json (io/dataset.cpp, DatasetMeta::from_json), parsed from
// memory, then written back and parsed again: what the reader accepts must survive its own
// writer.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.hpp"
#include "io/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  return tessera::fuzz::run_reader([&] {
    const auto meta = tessera::io::DatasetMeta::from_json(text, "meta.json");
    tessera::io::DatasetMeta::from_json(meta.to_json(), "meta.json (written back)");
  });
}
