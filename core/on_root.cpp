#include "core/on_root.hpp"

#include <exception>
#include <new>
#include <string>

#include "core/error.hpp"

namespace tessera {

namespace {

// Runs `work`; the message of what it threw (empty when nothing), and the exception in `thrown`.
std::string attempt(const std::function<void()>& work, std::exception_ptr& thrown) {
  try {
    work();
    return "";
  } catch (const std::bad_alloc&) {
    thrown = std::current_exception();
    return "out of memory";
  } catch (const std::exception& e) {
    thrown = std::current_exception();
    return *e.what() ? e.what() : "failed";  // an empty message would read as success
  } catch (...) {
    thrown = std::current_exception();
    return "failed";
  }
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
  // Rank 0 rethrows its own exception: an Error keeps its deck key, for the file:line message.
  if (thrown) std::rethrow_exception(thrown);
  if (!failure.empty()) throw Error(failure);
}

void run_on_every_rank(const Comm& comm, const std::function<void()>& work) {
  if (comm.size() == 1) return work();
  std::exception_ptr thrown;
  std::string failure = attempt(work, thrown);
  // The first rank that failed: the largest of size - rank over the ranks that did.
  int64_t first = failure.empty() ? 0 : comm.size() - comm.rank();
  comm.allreduce_max(&first, 1);
  if (first == 0) return;
  share(comm, failure, static_cast<int>(comm.size() - first));
  if (thrown) std::rethrow_exception(thrown);
  throw Error(failure);
}

}  // namespace tessera
