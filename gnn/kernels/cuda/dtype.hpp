// Element types the CUDA launchers accept (torch-free, shared by every .cu and its wrapper).
#pragma once

namespace tessera::gnn::kernels::cuda {
enum class DType { f32, f64, f16, bf16 };
}
