// Work whose outcome every rank shares: run_on_root, what rank 0 does for all (writing a file whose
// data every rank holds); run_on_every_rank, what each rank does for itself (its piece of a file);
// and IndependentWork, items that each rank works through on its own (a dataset's trajectories).
// An error in it becomes an Error on every rank, so no rank waits in a later collective for one
// that failed, and run_app reports it once.
#pragma once
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "core/comm.hpp"

namespace tessera {

// Runs `work` on rank 0 alone; then (collective), if it threw, rank 0 rethrows its exception and
// every other rank throws a copy that run_app words alike (core::describe_failure: kind, message,
// deck key). On one rank it simply runs `work`.
void run_on_root(const Comm& comm, const std::function<void()>& work);

// Runs `work` on every rank (each its own part: a file piece); then (collective), if it threw on
// any rank, each rank where it threw rethrows its exception and every other rank throws a copy of
// the first such rank's, worded alike. Where not every rank threw alike, that message ends in
// " (on rank R, host H)" or " (on ranks R, S; rank R on host H)", on the ranks that threw it and in
// the copies.
void run_on_every_rank(const Comm& comm, const std::function<void()>& work);

#if TESSERA_HAVE_MPI
// Waits for a non-blocking request, testing it with 5 ms pauses: Open MPI's MPI_Wait spins a core,
// which the ranks still working may need. False when `seconds` (if positive) pass first (the
// request is then left to the end of the job).
bool wait_with_pauses(MPI_Request& request, double seconds = 0);
#endif

// Items that each rank works through on its own, with no collective between them. When one rank
// fails, the others stop at their next item, instead of computing on and then waiting for it in
// the next collective, where run_app could only abort the job. The failing rank tells every other
// by a message (on a communicator of this object's own); run() looks for one before each item,
// and a long item can look for one itself (stopped_elsewhere) to stop early.
//
//   IndependentWork work(comm);
//   for (int64_t k = comm.rank(); k < n; k += comm.size())
//     if (!work.run([&] { solve(k); })) break;
//   work.finish();  // throws on every rank if an item threw on any
class IndependentWork {
 public:
  explicit IndependentWork(const Comm& comm);  // collective
  ~IndependentWork();
  IndependentWork(const IndependentWork&) = delete;
  IndependentWork& operator=(const IndependentWork&) = delete;

  // Runs `item` unless a rank (this one or another) has failed: false then, and `item` does not
  // run. If `item` throws, the exception is kept for finish(), every other rank is told, and the
  // result is false.
  bool run(const std::function<void()>& item);

  // Collective, once every rank has stopped calling run(): if an item threw on any rank, each rank
  // where one threw rethrows its exception and every other rank throws a copy of the lowest such
  // rank's, worded alike.
  void finish();

  // Whether another rank's item has failed (its message has arrived; not collective): a long
  // item asks it to stop early, leaving what it needs to go on later.
  bool stopped_elsewhere();

 private:
  Comm comm_;
  [[maybe_unused]] bool owns_comm_ = false;  // a duplicated communicator (MPI only)
  bool finished_ = false, told_ = false;
  std::exception_ptr thrown_;
  std::string failure_;  // what this rank sends: its failure's kind, deck key and message
#if TESSERA_HAVE_MPI
  std::vector<MPI_Request> sends_;
#endif
};

}  // namespace tessera
