#include "gnn/autocast.hpp"

#include <ATen/autocast_mode.h>

namespace tessera::gnn {

AutocastScope::AutocastScope(c10::DeviceType device, c10::ScalarType dtype) : device_(device) {
  if (dtype != c10::ScalarType::BFloat16 && dtype != c10::ScalarType::Half) return;
  active_ = true;
  prev_enabled_ = at::autocast::is_autocast_enabled(device);
  prev_dtype_ = at::autocast::get_autocast_dtype(device);
  at::autocast::set_autocast_enabled(device, true);
  at::autocast::set_autocast_dtype(device, dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost scope frees the cached low-precision copies of the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_, prev_enabled_);
  at::autocast::set_autocast_dtype(device_, prev_dtype_);
}

}  // namespace tessera::gnn
