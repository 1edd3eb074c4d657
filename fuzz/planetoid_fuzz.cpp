// Fuzz target: Planetoid node-classification HDF5 files (io/planetoid.cpp, through io/h5.cpp).
// The bytes become an .h5 file read by HDF5 (a system library without sanitizers) and then
// checked by tessera's shape and range checks, which are what is instrumented here.
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "io/planetoid.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      tessera::fuzz::write_scratch("input.h5", std::string_view(reinterpret_cast<const char*>(data), size));
  return tessera::fuzz::run_reader([&] {
    auto d = tessera::io::read_planetoid(path);
    tessera::io::normalize_rows(d);
  });
}
