// Work whose outcome every rank shares: run_on_root, what rank 0 does for all (writing a file whose
// data every rank holds), and run_on_every_rank, what each rank does for itself (its piece of a
// file). An error in it becomes an Error on every rank, so no rank waits in a later collective for
// one that failed, and run_app reports it once.
#pragma once
#include <functional>

#include "core/comm.hpp"

namespace tessera {

// Runs `work` on rank 0 alone; then (collective), if it threw, rank 0 rethrows its exception and
// every other rank throws an Error with its message. On one rank it simply runs `work`.
void run_on_root(const Comm& comm, const std::function<void()>& work);

// Runs `work` on every rank (each its own part: a file piece); then (collective), if it threw on
// any rank, each rank where it threw rethrows its exception and every other rank throws an Error
// with the message of the first rank where it threw.
void run_on_every_rank(const Comm& comm, const std::function<void()>& work);

}  // namespace tessera
