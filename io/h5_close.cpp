#include "io/h5_close.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tessera::io::detail {
namespace {

// HDF5 1.10 cannot recover from a write that fails while it closes a file (a full disk): the close
// fails, the file's identifier is left half torn down, a second close crashes, and HDF5 closes it
// again at exit (MPI_Finalize), crashing after the error line. Where this process writes the file
// alone (HDF5's sec2 driver), the file's blocks up to HDF5's end of allocation are reserved before
// it closes, so that the close's writes land in space the file already has. Where the disk (or a
// size limit or quota) refuses them, the file's descriptor is pointed at an anonymous file in
// memory: the close then writes (and truncates) there and completes, and the file, unfinished,
// is the caller's to remove. Returns that refusal, "" if none (or if the file is another driver's
// or read-only, or the reservation failed for another reason: the close then goes as before).
// Files written by MPI-IO are not covered.
std::string reserve_or_divert(hid_t file) {
  unsigned intent = 0;
  if (H5Fget_intent(file, &intent) < 0 || intent == H5F_ACC_RDONLY) return "";
  const hid_t fapl = H5Fget_access_plist(file);
  if (fapl < 0) return "";
  const hid_t driver = H5Pget_driver(fapl);
  H5Pclose(fapl);
  hsize_t size = 0;
  int* fd = nullptr;
  if (driver != H5FD_SEC2 || H5Fget_filesize(file, &size) < 0 || size == 0 ||
      H5Fget_vfd_handle(file, H5P_DEFAULT, reinterpret_cast<void**>(&fd)) < 0 || !fd)
    return "";
  // Already whole (no holes, nothing past the end to come): nothing to reserve. Spares file
  // systems whose fallocate glibc emulates block by block a pass over a large dataset.
  struct stat st {};
  if (::fstat(*fd, &st) == 0 && st.st_size >= static_cast<off_t>(size) &&
      static_cast<hsize_t>(st.st_blocks) * 512 >= static_cast<hsize_t>(st.st_size))
    return "";
  const int failed = posix_fallocate(*fd, 0, static_cast<off_t>(size));
  if (failed != ENOSPC && failed != EFBIG && failed != EDQUOT) return "";
  if (const int sink = ::memfd_create("tessera-discarded-hdf5", MFD_CLOEXEC); sink >= 0) {
    ::dup2(sink, *fd);
    ::close(sink);
  }
  return std::strerror(failed);
}

}  // namespace

// H5Fclose after reserve_or_divert; `refused` is the reservation's refusal ("" if none). The sink
// in memory is still under this process's file size limit (RLIMIT_FSIZE), which may be what
// refused the file: the soft limit is raised to the hard one for the close, then restored.
herr_t close_reserved(hid_t file, std::string& refused) {
  refused = reserve_or_divert(file);
  rlimit limit{};
  const bool lift = !refused.empty() && ::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != limit.rlim_max;
  if (lift) {
    rlimit up = limit;
    up.rlim_cur = up.rlim_max;
    ::setrlimit(RLIMIT_FSIZE, &up);
  }
  const herr_t closed = H5Fclose(file);
  if (lift) ::setrlimit(RLIMIT_FSIZE, &limit);
  return closed;
}

}  // namespace tessera::io::detail
