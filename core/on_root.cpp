#include "core/on_root.hpp"

#include <exception>
#include <new>
#include <string>

#include "core/error.hpp"

namespace tessera {

void run_on_root(const Comm& comm, const std::function<void()>& work) {
  if (comm.size() == 1) return work();
  std::exception_ptr thrown;
  std::string failure;  // rank 0's error message; empty when it succeeded
  if (comm.root()) {
    try {
      work();
    } catch (const std::bad_alloc&) {
      thrown = std::current_exception(), failure = "out of memory";
    } catch (const std::exception& e) {
      thrown = std::current_exception(), failure = e.what();
      if (failure.empty()) failure = "failed";  // an empty message would read as success
    } catch (...) {
      thrown = std::current_exception(), failure = "failed";
    }
  }
#if TESSERA_HAVE_MPI
  int64_t length = static_cast<int64_t>(failure.size());
  MPI_Bcast(&length, 1, MPI_INT64_T, 0, comm.mpi());
  failure.resize(static_cast<size_t>(length));
  if (length > 0) MPI_Bcast(failure.data(), static_cast<int>(length), MPI_CHAR, 0, comm.mpi());
#endif
  // Rank 0 rethrows its own exception: an Error keeps its deck key, for the file:line message.
  if (thrown) std::rethrow_exception(thrown);
  if (!failure.empty()) throw Error(failure);
}

}  // namespace tessera
