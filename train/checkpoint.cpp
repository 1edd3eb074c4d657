#include "train/checkpoint.hpp"

#include <ATen/ATen.h>
#include <ATen/core/Dict.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <charconv>
#include <cmath>
#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/h5.hpp"

namespace tessera::train {
namespace {

// Tensor names may contain '.', never '/': they become dataset names under /tensors.
std::string dataset_of(const std::string& name) {
  if (name.find('/') != std::string::npos) throw Error(cat("checkpoint: tensor name '", name, "' contains '/'"));
  return "/tensors/" + name;
}

}  // namespace

// A dict of name -> CPU tensor (docs/reliability.md).
void save_state_dict(const std::string& path, const std::map<std::string, at::Tensor>& parameters) {
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& [name, t] : parameters) state.insert(name, t.detach().to(at::kCPU).contiguous());
  // torch::jit::pickle_save, but without type tags on the dict: a tagged dict needs a global that
  // torch.load's default weights_only mode refuses.
  std::vector<char> pickled;
  torch::jit::Pickler pickler([&](const char* b, size_t n) { pickled.insert(pickled.end(), b, b + n); }, nullptr,
                              nullptr, nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(c10::IValue(state));
  pickler.stop();
  std::string bytes;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* b, size_t n) {
    bytes.append(static_cast<const char*>(b), n);
    return n;
  });
  torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
  core::write_text_atomic(path, bytes);
}

namespace {

// The model parameters ("model.<name>", or "param.<name>" for GNNPipe) as a PyTorch state_dict
// file beside the checkpoint; none for a checkpoint without them.
void save_model_state_dict(const std::string& path, const Checkpoint& c) {
  std::map<std::string, at::Tensor> parameters;
  for (const auto& [name, t] : c.tensors)
    for (const std::string prefix : {"model.", "param."})
      if (name.rfind(prefix, 0) == 0) parameters[name.substr(prefix.size())] = t;
  if (!parameters.empty()) save_state_dict(path, parameters);
}

}  // namespace

std::string state_dict_path(const std::string& checkpoint) {
  const std::string stem = checkpoint.size() > 3 && checkpoint.compare(checkpoint.size() - 3, 3, ".h5") == 0
                               ? checkpoint.substr(0, checkpoint.size() - 3)
                               : checkpoint;
  return stem + ".pt";
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  auto fill = [&](io::H5File& f) {
    f.create_group("/tensors");
    for (const auto& [name, t0] : c.tensors) {
      at::Tensor t = t0.detach().to(at::kCPU).contiguous();
      std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
      if (dims.empty()) dims = {1};
      const std::string ds = dataset_of(name);
      switch (t.scalar_type()) {
        case at::kFloat:
          f.write(ds, dims, t.data_ptr<float>());
          break;
        case at::kDouble:
          f.write(ds, dims, t.data_ptr<double>());
          break;
        case at::kLong:
          f.write(ds, dims, t.data_ptr<int64_t>());
          break;
        case at::kByte:
          f.write(ds, dims, t.data_ptr<uint8_t>());
          break;
        default:
          throw Error(cat("checkpoint: tensor '", name, "' has unsupported dtype ", t.scalar_type()));
      }
      f.write_attr(ds, "dtype", std::string(c10::toString(t.scalar_type())));
      f.write_attr(ds, "scalar", t0.dim() == 0 ? "1" : "0");
    }
    for (const auto& [k, v] : c.attributes)
      if (k != "format") f.write_attr("/", k, v);
    f.write_attr("/", "format", kCheckpointFormat);
  };
  // The earlier .pt goes before the new .h5 takes its place: a run stopped between the two moves
  // leaves the .pt missing (written again by the next checkpoint), never another step's weights
  // beside this checkpoint.
  io::write_h5_atomic(path, fill, [&] {
    std::error_code ec;  // one that cannot be removed is replaced below, or its write fails there
    std::filesystem::remove(state_dict_path(path), ec);
  });
  save_model_state_dict(state_dict_path(path), c);
}

namespace {

// The file, or its error with a hint for the two slips users make: a checkpoint not written yet,
// and the PyTorch state dict (checkpoint.pt) that lies beside it.
io::H5File open_checkpoint(const std::string& path) {
  try {
    return io::H5File::open_read(path);
  } catch (const Error& e) {
    if (std::filesystem::path(path).extension() == ".pt")
      throw Error(
          cat(e.what(), " (a .pt beside a checkpoint holds its parameters for PyTorch; tessera reads the .h5)"));
    if (!std::filesystem::exists(path))
      throw Error(cat(e.what(),
                      " (tessera-train writes its checkpoint as <output.dir>/checkpoint.h5, or in a fold's or "
                      "case's folder below it",
                      // The example decks' default: a new user who has not run the main job yet.
                      path.rfind("out/example/", 0) == 0 || path.find("/out/example/") != std::string::npos
                          ? "; out/example/ is the README's main job's: bash scripts/run-example writes it"
                          : "",
                      ")"));
    throw;
  }
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path) {
  io::H5File f = open_checkpoint(path);
  if (!f.exists("/tensors")) throw Error(cat(path, ": not a tessera checkpoint (no /tensors group)"));
  Checkpoint c;
  for (const auto& name : f.list("/tensors")) {
    const std::string ds = "/tensors/" + name, dtype = f.read_attr(ds, "dtype");
    std::vector<hsize_t> dims;
    at::Tensor t;
    auto make = [&](auto vec, at::ScalarType st) {
      std::vector<int64_t> shape(dims.begin(), dims.end());
      // from_blob trusts the shape; a damaged file must not make it read past the data.
      uint64_t numel = 1;
      bool fits = true;
      for (hsize_t d : dims) fits = fits && d <= INT64_MAX && !__builtin_mul_overflow(numel, d, &numel);
      if (!fits || numel != vec.size())
        throw Error(cat(path, ": tensor ", name, " holds ", vec.size(), " values for its shape: the file is damaged"));
      return at::from_blob(vec.data(), shape, at::TensorOptions().dtype(st)).clone();
    };
    if (dtype == "Float")
      t = make(f.read<float>(ds, &dims), at::kFloat);
    else if (dtype == "Double")
      t = make(f.read<double>(ds, &dims), at::kDouble);
    else if (dtype == "Long")
      t = make(f.read<int64_t>(ds, &dims), at::kLong);
    else if (dtype == "Byte")
      t = make(f.read<uint8_t>(ds, &dims), at::kByte);
    else
      throw Error(cat(path, ": tensor ", name, " has unknown dtype ", dtype));
    if (f.read_attr(ds, "scalar") == "1") {
      if (t.numel() != 1)
        throw Error(cat(path, ": tensor ", name, " is marked scalar but holds ", t.numel(), " elements"));
      t = t.reshape({});
    }
    c.tensors[name] = t;
  }
  for (const auto& k : f.attr_names("/")) c.attributes[k] = f.read_attr("/", k);
  if (const auto it = c.attributes.find("format"); it != c.attributes.end() && it->second != kCheckpointFormat)
    throw Error(cat(path, ": checkpoint format '", it->second, "', but this build reads '", kCheckpointFormat,
                    "' (written by another version of tessera?)"));
  return c;
}

std::string checkpoint_family(const std::string& path) {
  Checkpoint c = load_checkpoint(path);
  auto it = c.attributes.find("family");
  if (it == c.attributes.end()) throw Error(cat(path, ": checkpoint has no 'family' attribute"));
  return it->second;
}

namespace {

// The text of a required attribute, or an Error naming `path` and the attribute.
const std::string& attribute_text(const std::map<std::string, std::string>& attributes, const std::string& path,
                                  const std::string& name) {
  const auto it = attributes.find(name);
  if (it == attributes.end()) throw Error(cat(path, ": checkpoint has no attribute ", name));
  return it->second;
}

}  // namespace

int64_t attribute_count(const std::map<std::string, std::string>& attributes, const std::string& path,
                        const std::string& name) {
  const std::string& s = attribute_text(attributes, path, name);
  int64_t v = -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0)
    throw Error(cat(path, ": checkpoint attribute ", name, " = '", s, "' is not a non-negative whole number"));
  return v;
}

double attribute_real(const std::map<std::string, std::string>& attributes, const std::string& path,
                      const std::string& name) {
  const std::string& s = attribute_text(attributes, path, name);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    throw Error(cat(path, ": checkpoint attribute ", name, " = '", s, "' is not a finite number"));
  return v;
}

void put_deck(Checkpoint& c, const std::string& deck_yaml, const std::string& deck_dir) {
  c.attributes["deck"] = deck_yaml;
  if (!deck_dir.empty()) c.attributes["deck_dir"] = deck_dir;
}

void put_setup(Checkpoint& c, const RunSetup& setup) {
  for (const auto& [key, value] : setup) c.attributes["setup." + key] = value;
}

std::optional<io::DeckDifference> setup_difference(const Checkpoint& c, const RunSetup& setup) {
  for (const auto& [key, value] : setup)
    if (const auto it = c.attributes.find("setup." + key); it != c.attributes.end() && it->second != value)
      return io::DeckDifference{key, it->second, value};
  return std::nullopt;
}

}  // namespace tessera::train
