#include "train/device.hpp"

#include <torch/cuda.h>

#include <regex>

#include "mesh/error.hpp"

namespace tessera::train {

c10::Device select_device(const std::string& spec, const Comm& comm) {
  if (spec == "cpu") return c10::Device(c10::kCPU);
  static const std::regex pattern(R"((auto|cuda)(:(\d+))?)");
  std::smatch m;
  if (!std::regex_match(spec, m, pattern) || (m[1] == "auto" && m[2].matched))
    throw Error(cat("unknown device '", spec, "' (expected cpu, cuda, cuda:N or auto)"));
  const int local = comm.node_rank();  // collective: called on every rank alike
  const int count = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  if (m[1] == "auto" && count == 0) return c10::Device(c10::kCPU);
  if (count == 0)
    throw Error(cat("device '", spec, "': no CUDA device is visible (use cpu or auto; check CUDA_VISIBLE_DEVICES)"));
  int index = local % count;
  if (m[2].matched) {
    index = std::stoi(m[3].str());
    if (index >= count) throw Error(cat("device '", spec, "': only ", count, " CUDA device(s) are visible"));
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

c10::Device device_from_deck(const io::Deck& deck, const std::string& key, const Comm& comm) {
  try {
    return select_device(deck.get_string(key), comm);
  } catch (const Error& e) {
    deck.fail(key, e.what());
  }
}

c10::ScalarType precision_dtype(const std::string& name) {
  if (name == "fp32") return c10::ScalarType::Float;
  if (name == "bf16") return c10::ScalarType::BFloat16;
  throw Error(cat("unknown precision '", name, "' (expected fp32 or bf16)"));
}

}  // namespace tessera::train
