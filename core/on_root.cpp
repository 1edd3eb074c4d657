#include "core/on_root.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/failure.hpp"
#include "core/stop_request.hpp"

namespace tessera {

namespace {

// Runs `work`; what it threw (empty when nothing) as "kind\0key\0message" in core::describe_failure's
// words, so that the other ranks' copies print as the original does, and the exception in `thrown`.
std::string attempt(const std::function<void()>& work, std::exception_ptr& thrown) {
  try {
    work();
    return "";
  } catch (...) {
    thrown = std::current_exception();
  }
  const core::Failure f = core::describe_failure(thrown);
  return f.kind + '\0' + f.key + '\0' + f.message;
}

// The exception that another rank's `failure` (from attempt) becomes here: one that run_app
// describes with the same kind, message and key.
[[noreturn]] void throw_copy(const std::string& failure) {
  const size_t first = failure.find('\0'), second = failure.find('\0', first + 1);
  const std::string kind = failure.substr(0, first), message = failure.substr(second + 1);
  if (kind.rfind("stopped by ", 0) == 0) throw core::StoppedBySignal(core::signal_number(kind.substr(11)), message);
  if (kind != "error") throw std::runtime_error(message);  // an internal error
  throw Error(message, failure.substr(first + 1, second - first - 1));
}

// Every rank gets `failure` from rank `from`.
void share(const Comm& comm, std::string& failure, [[maybe_unused]] int from) {
#if TESSERA_HAVE_MPI
  int64_t length = static_cast<int64_t>(failure.size());
  MPI_Bcast(&length, 1, MPI_INT64_T, from, comm.mpi());
  failure.resize(static_cast<size_t>(length));
  if (length > 0) MPI_Bcast(failure.data(), static_cast<int>(length), MPI_CHAR, from, comm.mpi());
#endif
}

}  // namespace

void run_on_root(const Comm& comm, const std::function<void()>& work) {
  if (comm.size() == 1) return work();
  std::exception_ptr thrown;
  std::string failure = comm.root() ? attempt(work, thrown) : "";  // empty when it succeeded
  share(comm, failure, 0);
  // Rank 0 rethrows its own exception (an Error's type and key kept).
  if (thrown) std::rethrow_exception(thrown);
  if (!failure.empty()) throw_copy(failure);
}

void run_on_every_rank(const Comm& comm, const std::function<void()>& work) {
  if (comm.size() == 1) return work();
  std::exception_ptr thrown;
  const std::string failure = attempt(work, thrown);
  const size_t ranks = static_cast<size_t>(comm.size());
  std::vector<int64_t> failed(ranks, 0);
  failed[static_cast<size_t>(comm.rank())] = failure.empty() ? 0 : 1;
  comm.allreduce_sum(failed.data(), comm.size());
  const auto first = std::find(failed.begin(), failed.end(), int64_t{1});
  if (first == failed.end()) return;
  // The first failing rank's failure and host, for every rank.
  const int from = static_cast<int>(first - failed.begin());
  std::string shared;
  if (comm.rank() == from) shared = cat(failure, '\x1f', core::host_name());
  share(comm, shared, from);
  const std::string host = shared.substr(shared.rfind('\x1f') + 1);
  shared.resize(shared.rfind('\x1f'));
  // Where not every rank failed alike (a node-local path, a file one node cannot read), the error
  // says on which ranks and host (it read as the whole job's); ranks that failed alike report it
  // in the same words, so that it is printed once.
  std::vector<int64_t> alike(ranks, 0);
  alike[static_cast<size_t>(comm.rank())] = failure == shared ? 1 : 0;
  comm.allreduce_sum(alike.data(), comm.size());
  std::string which;
  int64_t count = 0;
  for (size_t r = 0; r < ranks; ++r)
    if (alike[r]) which += cat(count++ ? ", " : "", r);
  const bool mine = failure == shared;
  if (count < comm.size())
    shared += count == 1 ? cat(" (on rank ", which, host.empty() ? "" : ", host " + host, ")")
                         : cat(" (on ranks ", which, host.empty() ? "" : cat("; rank ", from, " on host ", host), ")");
  if (thrown && !mine) std::rethrow_exception(thrown);  // another failure than the one shared
  throw_copy(shared);
}

#if TESSERA_HAVE_MPI
bool wait_with_pauses(MPI_Request& request, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return true;
    if (seconds > 0 && std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

namespace {
constexpr int kFailureTag = 1;
}
#endif

IndependentWork::IndependentWork(const Comm& comm) : comm_(comm) {
#if TESSERA_HAVE_MPI
  if (comm.size() > 1) {
    MPI_Comm own = MPI_COMM_NULL;
    MPI_Comm_dup(comm.mpi(), &own);
    comm_ = Comm(own);
    owns_comm_ = true;
  }
#endif
}

IndependentWork::~IndependentWork() {
#if TESSERA_HAVE_MPI
  // Freeing is collective: only after finish(). An object left by an exception from outside the
  // items (the job is failing) keeps its communicator and sends until MPI_Finalize.
  if (finished_ && owns_comm_) {
    MPI_Comm own = comm_.mpi();
    MPI_Comm_free(&own);
  }
#endif
}

bool IndependentWork::stopped_elsewhere() {
#if TESSERA_HAVE_MPI
  if (!told_ && comm_.size() > 1) {
    int waiting = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, kFailureTag, comm_.mpi(), &waiting, MPI_STATUS_IGNORE);
    told_ = waiting != 0;
  }
#endif
  return told_;
}

bool IndependentWork::run(const std::function<void()>& item) {
  if (thrown_ || stopped_elsewhere()) return false;
  failure_ = attempt(item, thrown_);
  if (!thrown_) return true;
#if TESSERA_HAVE_MPI
  for (int r = 0; r < comm_.size(); ++r) {
    if (r == comm_.rank()) continue;
    sends_.emplace_back();
    MPI_Isend(failure_.data(), static_cast<int>(failure_.size()), MPI_CHAR, r, kFailureTag, comm_.mpi(),
              &sends_.back());
  }
#endif
  return false;
}

void IndependentWork::finish() {
  std::string lowest;  // the failure of the lowest rank where an item threw
#if TESSERA_HAVE_MPI
  if (comm_.size() > 1) {
    // Which ranks failed; then each one's message, sent to every rank when it failed.
    int mine = thrown_ ? 1 : 0;
    std::vector<int> failed(static_cast<size_t>(comm_.size()));
    // A rank that failed waits here for the others to finish their item.
    MPI_Request gathered;
    MPI_Iallgather(&mine, 1, MPI_INT, failed.data(), 1, MPI_INT, comm_.mpi(), &gathered);
    wait_with_pauses(gathered);
    for (int r = 0; r < comm_.size(); ++r) {
      if (!failed[static_cast<size_t>(r)]) continue;
      std::string text = failure_;
      if (r != comm_.rank()) {
        MPI_Status status;
        MPI_Probe(r, kFailureTag, comm_.mpi(), &status);
        int length = 0;
        MPI_Get_count(&status, MPI_CHAR, &length);
        text.assign(static_cast<size_t>(length), '\0');
        MPI_Recv(text.data(), length, MPI_CHAR, r, kFailureTag, comm_.mpi(), MPI_STATUS_IGNORE);
      }
      if (lowest.empty()) lowest = text;
    }
    MPI_Waitall(static_cast<int>(sends_.size()), sends_.data(), MPI_STATUSES_IGNORE);
    sends_.clear();
  }
#endif
  finished_ = true;
  if (thrown_) std::rethrow_exception(thrown_);
  if (!lowest.empty()) throw_copy(lowest);
}

}  // namespace tessera
