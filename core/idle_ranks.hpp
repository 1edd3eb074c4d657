// The warning for an MPI job with more ranks than pieces of work that it deals out whole
// (trajectories of a batched rollout, cases of a PINN study): the ranks beyond them wait.
#pragma once
#include <cstdint>
#include <string>

#include "core/counted.hpp"
#include "core/error.hpp"

namespace tessera::core {

// "3 ranks for 2 cases: 1 rank stays idle (<how>)": `one` and `many` name a piece of work.
inline std::string idle_ranks_warning(int64_t ranks, int64_t pieces, const std::string& one, const std::string& many,
                                      const std::string& how) {
  const int64_t idle = ranks - pieces;
  return cat(ranks, " ranks for ", counted(pieces, one, many), ": ", counted(idle, "rank stays", "ranks stay"),
             " idle (", how, ")");
}

}  // namespace tessera::core
