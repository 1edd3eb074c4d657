// The CPU loops of the tanh MLP's jets (kernels/cpu/tanh_jet.cpp), which the fused autograd
// nodes of physics/fused_tanh_jet.cpp call; elsewhere than the CPU those nodes use plain ATen ops.
// A jet stacks C = 2, 3 or 4 channels (value, d/dt, d/dx, d²/dx²). Each function refuses (Error)
// tensors that are not contiguous on the CPU; shapes and the one float or double type are the
// caller's to match (fused_tanh_jet.cpp makes every operand from the same jet).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace tessera::physics::kernels::cpu {

// The tanh jet's derivative channels: out[1..C) from the pre-activation jet a [C, ...] and
// y = tanh(a[0]); out[0] is left to the caller (y). out may be a.
void tanh_jet_step(const at::Tensor& a, const at::Tensor& y, at::Tensor& out);
// Its backward from the output jet y [C, ...] alone: ga = dL/da from g = dL/dy (ga may be g).
void tanh_jet_step_backward(const at::Tensor& y, const at::Tensor& g, at::Tensor& ga);

// The same per feature row of a feature-major block [rows, C, n], in place: a's value channels
// already hold tanh (tanh_jet_step_rows); gh becomes the pre-activation gradient from the output
// jet h (tanh_jet_step_backward_rows).
void tanh_jet_step_rows(at::Tensor& a);
void tanh_jet_step_backward_rows(const at::Tensor& h, at::Tensor& gh);
// fp32, in place on a pre-activation block a [rows, C, n]: value = tanh(value + bias[j]) (Eigen's
// fast tanh) and the jet step, in one pass.
void tanh_bias_jet_rows_fp32(at::Tensor& a, const at::Tensor& bias);

// out [rows, m] = W [rows, in] × h [in, m] for in ≤ kNarrowInput (the network's input features):
// one pass over each output row.
inline constexpr int64_t kNarrowInput = 4;
void narrow_input_product(const at::Tensor& w, const at::Tensor& h, at::Tensor& out);

}  // namespace tessera::physics::kernels::cpu
