#include "physics/stagger.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace tessera::physics {

at::Tensor stagger_split(const at::Tensor& f, int64_t s) {
  if (s < 1) throw Error(cat("stagger: the factor s must be >= 1, got ", s));
  if (f.dim() < 2 || f.size(-1) != f.size(-2))
    throw Error(cat("stagger: the field must be [..., N, N], got ", f.sizes()));
  if (f.size(-1) % s) throw Error(cat("stagger: N = ", f.size(-1), " is not divisible by s = ", s));
  // pixel_unshuffle: out[i s + j, a, b] = in[a s + i, b s + j], exactly field[i::s, j::s].
  return at::pixel_unshuffle(f.unsqueeze(-3), s);
}

at::Tensor stagger_merge(const at::Tensor& p, int64_t s) {
  if (s < 1) throw Error(cat("stagger: the factor s must be >= 1, got ", s));
  if (p.dim() < 3 || p.size(-3) != s * s)
    throw Error(cat("stagger: the pieces must be [..., ", s * s, ", n, n], got ", p.sizes()));
  return at::pixel_shuffle(p, s).squeeze(-3);
}

}  // namespace tessera::physics
