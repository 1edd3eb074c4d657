// Fuzz target: an XDMF3 time series (io/foreign_xdmf.cpp, read_xdmf_series), the format of
// foreign datasets a user downloads, with its data inline (Format="XML" DataItems, as meshio's
// TimeSeriesWriter writes with data_format="XML"), so that one input is the whole series. What
// the reader accepts is then written as a tessera dataset (io::write_imported) and read back: an
// accepted series must survive the writer and tessera's own dataset reader.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "io/dataset.hpp"
#include "io/foreign.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace io = tessera::io;
  const std::string xmf =
      tessera::fuzz::write_scratch("series.xmf", std::string_view(reinterpret_cast<const char*>(data), size));
  const std::filesystem::path out = tessera::fuzz::scratch_dir() / "imported";
  std::filesystem::remove_all(out);  // the previous input's dataset must not be read for this one
  return tessera::fuzz::run_reader([&] {
    io::ImportOptions o;
    o.format = io::ForeignFormat::Xdmf;
    const io::ImportedDataset d = io::read_foreign(xmf, o);
    io::write_imported(d, o, out.string(), "test");
    const io::DatasetReader back(out.string(), "test");
    for (int64_t t : back.trajectories()) back.read(t);
  });
}
