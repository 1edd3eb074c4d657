#include "train/device.hpp"

#include <torch/cuda.h>

#include <regex>

#include "core/counted.hpp"
#include "core/error.hpp"

namespace tessera::train {

namespace {
const std::regex& device_pattern() {
  static const std::regex pattern(R"((auto|cuda)(:(\d{1,4}))?)");  // N: up to 4 digits (no overflow)
  return pattern;
}
}  // namespace

void check_device_name(const std::string& spec) {
  std::smatch m;
  if (spec != "cpu" && (!std::regex_match(spec, m, device_pattern()) || (m[1] == "auto" && m[2].matched)))
    throw Error(cat("unknown device '", spec, "' (expected cpu, cuda, cuda:N or auto)"));
}

c10::Device select_device(const std::string& spec, const Comm& comm) {
  check_device_name(spec);
  if (spec == "cpu") return c10::Device(c10::kCPU);
  std::smatch m;
  std::regex_match(spec, m, device_pattern());
  const int local = comm.node_rank();  // collective: called on every rank alike
  const int count = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  if (m[1] == "auto" && count == 0) return c10::Device(c10::kCPU);
  if (count == 0)
    throw Error(cat("device '", spec, "': no CUDA device is visible (use cpu or auto; check CUDA_VISIBLE_DEVICES)"));
  int index = local % count;
  if (m[2].matched) {
    index = std::stoi(m[3].str());
    if (index >= count)
      throw Error(
          cat("device '", spec, "': only ", core::counted(count, "CUDA device is", "CUDA devices are"), " visible"));
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

c10::Device select_device_for(const std::string& spec, const std::string& key, const Comm& comm) {
  try {
    return select_device(spec, comm);
  } catch (const Error& e) {
    throw Error(e.what(), key);
  }
}

c10::ScalarType precision_dtype(const std::string& name) {
  if (name == "fp32") return c10::ScalarType::Float;
  if (name == "bf16") return c10::ScalarType::BFloat16;
  throw Error(cat("unknown precision '", name, "' (expected fp32 or bf16)"));
}

}  // namespace tessera::train
