// Whether a text (a fingerprint, a list of them) is the same on every rank: data that every rank
// reads for itself from its own path (a node-local copy of a dataset) can differ between nodes.
// A rank that trained on another copy mixed two datasets without a word; a rollout on another
// copy ended in MPI_ERR_TRUNCATE (an MPI review found both, 2026-12-07).
#pragma once
#include <cstdint>
#include <string>

#include "core/comm.hpp"

namespace tessera::core {

// Collective over `comm`: true on every rank when every rank passed the same text (compared by a
// 63-bit FNV-1a hash of it).
inline bool same_on_every_rank(const Comm& comm, const std::string& text) {
  if (comm.size() == 1) return true;
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  int64_t v[2] = {static_cast<int64_t>(h >> 1), -static_cast<int64_t>(h >> 1)};
  comm.allreduce_max(v, 2);
  return v[0] == -v[1];
}

}  // namespace tessera::core
