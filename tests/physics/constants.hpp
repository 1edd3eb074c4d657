// Constants the physics tests share (one definition, so that their sources can be compiled as one
// unity translation unit).
#pragma once
#include <ATen/ATen.h>

#include <numbers>

namespace tessera::test {

inline constexpr double pi = std::numbers::pi;
inline const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble);

}  // namespace tessera::test
