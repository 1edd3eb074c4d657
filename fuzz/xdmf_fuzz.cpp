// Fuzz target: an XDMF3 time series (io/foreign_xdmf.cpp, read_xdmf_series), the format of
// foreign datasets a user downloads, with its data inline (Format="XML" DataItems, as meshio's
// TimeSeriesWriter writes with data_format="XML"), so that one input is the whole series. What
// the reader accepts is then written as a tessera dataset and read back (import_round_trip).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "fuzz/import_round_trip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string xmf =
      tessera::fuzz::write_scratch("series.xmf", std::string_view(reinterpret_cast<const char*>(data), size));
  return tessera::fuzz::run_reader([&] {
    tessera::io::ImportOptions o;
    o.format = tessera::io::ForeignFormat::Xdmf;
    tessera::fuzz::import_round_trip(xmf, o);
  });
}
