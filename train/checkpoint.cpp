#include "train/checkpoint.hpp"

#include <ATen/ATen.h>

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

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  core::ensure_parent_dir(path);
  {
    io::H5File f = io::H5File::create(core::temp_path(path));
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
    for (const auto& [k, v] : c.attributes) f.write_attr("/", k, v);
  }
  core::commit_temp(path);
}

Checkpoint load_checkpoint(const std::string& path) {
  io::H5File f = io::H5File::open_read(path);
  if (!f.exists("/tensors")) throw Error(cat(path, ": not a tessera checkpoint (no /tensors group)"));
  Checkpoint c;
  for (const auto& name : f.list("/tensors")) {
    const std::string ds = "/tensors/" + name, dtype = f.read_attr(ds, "dtype");
    std::vector<hsize_t> dims;
    at::Tensor t;
    auto make = [&](auto vec, at::ScalarType st) {
      std::vector<int64_t> shape(dims.begin(), dims.end());
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
    if (f.read_attr(ds, "scalar") == "1") t = t.reshape({});
    c.tensors[name] = t;
  }
  for (const auto& k : f.attr_names("/")) c.attributes[k] = f.read_attr("/", k);
  return c;
}

std::string checkpoint_family(const std::string& path) {
  Checkpoint c = load_checkpoint(path);
  auto it = c.attributes.find("family");
  if (it == c.attributes.end()) throw Error(cat(path, ": checkpoint has no 'family' attribute"));
  return it->second;
}

}  // namespace tessera::train
