// Whether a text (a fingerprint, a list of them) is the same on every rank: data that every rank
// reads for itself from its own path (a node-local copy of a dataset) can differ between nodes.
// A rank that trained on another copy mixed two datasets without a word; a rollout on another
// copy ended in MPI_ERR_TRUNCATE (an MPI review found both, 2026-12-07).
#pragma once
#include <cstdint>
#include <string>

#include "core/comm.hpp"
#include "core/error.hpp"

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

// Collective: throws, on every rank alike and keyed `key`, unless every rank passed the same
// fingerprint of the data it read for itself: "the ranks read different <what> (their fingerprints
// differ between ranks): ...". `generated`: data made from the deck (which the ranks share), where
// a node-local copy cannot be the cause.
inline void require_same_data(const Comm& comm, const std::string& fingerprint, const std::string& what,
                              const std::string& key, bool generated = false) {
  if (same_on_every_rank(comm, fingerprint)) return;
  // The same words on every rank (the path may differ between them): one line, not one per rank.
  throw Error(cat("the ranks read different ", what, " (their fingerprints differ between ranks): every rank must ",
                  generated ? "make the same data (a build or library that differs between nodes?)"
                            : "read the same data (a node-local copy that differs from the others?)"),
              key);
}

}  // namespace tessera::core
