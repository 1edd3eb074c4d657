// Sets torch's intra-op thread count for a scope and restores it, also when a REQUIRE throws.
#pragma once
#include <ATen/Parallel.h>

namespace tessera::test {

struct Threads {
  explicit Threads(int n) : before(at::get_num_threads()) { at::set_num_threads(n); }
  ~Threads() { at::set_num_threads(before); }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;
  int before;
};

}  // namespace tessera::test
