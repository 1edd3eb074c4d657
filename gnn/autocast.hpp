// AutocastScope: mixed precision for a block of model code, as `with torch.autocast(...)`.
#pragma once
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

namespace tessera::gnn {

// While alive, matrix products on `device`'s type run in `dtype` (bf16 or fp16) and precision-
// sensitive ops in fp32; parameters stay fp32 and the backward runs outside the scope. A no-op
// for fp32/fp64. Scopes nest; the previous state is restored on exit.
class AutocastScope {
 public:
  AutocastScope(c10::DeviceType device, c10::ScalarType dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType device_;
  bool active_ = false, prev_enabled_ = false;
  c10::ScalarType prev_dtype_ = c10::ScalarType::Float;
};

}  // namespace tessera::gnn
