// H5File: a thin RAII layer over the HDF5 C API for the few shapes tessera stores: n-D arrays
// of float/double/int32/int64/uint8, groups and string attributes. With MPI (comm size > 1) the file
// is opened through MPI-IO and every write is collective: all ranks call in the same order.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/comm.hpp"
#include "io/h5_snapshot.hpp"

namespace tessera::io {

class H5File {
 public:
  // Creates (truncates) `path`; parallel (collective) when comm.size() > 1. The default is this
  // process alone: a collective open by one rank would wait for the others forever.
  static H5File create(const std::string& path, const Comm& comm = Comm::self());
  // Creates `path` in memory, for this process alone; close() writes it out. HDF5 1.10 cannot
  // recover from a write that fails while it closes a file (a full disk): it reported nothing
  // when the file was closed by a destructor, and crashed at exit when close() was checked. Built
  // in memory, HDF5 meets no I/O error, and the file system's error is an Error from close().
  // For files that fit in memory: checkpoints, a time series' steps.
  static H5File create_in_memory(const std::string& path);
  // Opens for reading, serially (each rank may read independently). HDF5 decodes the file in a
  // child process (H5Snapshot), so a damaged file is an Error even where HDF5 itself crashes.
  static H5File open_read(const std::string& path);

  H5File(H5File&&) noexcept;
  H5File& operator=(H5File&&) noexcept;
  ~H5File();
  // Closes the file, flushing what HDF5 still holds (or, for a file in memory, writing it out): a
  // failure such as a full disk throws here, so writers close before they move a file into place.
  // The destructor closes without checking, and discards a file in memory.
  void close();

  const std::string& path() const { return path_; }
  bool exists(const std::string& obj) const;
  void create_group(const std::string& group);  // intermediate groups too
  std::vector<std::string> list(const std::string& group) const;
  // For files read through a snapshot (open_read): why each link in `group` that list() leaves out
  // is not followed (soft, external and user-defined links), e.g. "f.h5: /5 is a soft link; ...".
  std::vector<std::string> unfollowed_links(const std::string& group) const;

  // Writes a whole dataset; in parallel rank 0's data is written (collectively).
  template <class T>
  void write(const std::string& dset, const std::vector<hsize_t>& dims, const T* data);
  // Collective: dataset of `global_dims`; this rank writes rows [row_offset, row_offset + rows)
  // of the first dimension from `data` (rows x the remaining dims).
  // Collective: dataset of `global_dims`; this rank writes the hyperslab at `start` of extent
  // `count` (row-major data); a zero count writes nothing.
  template <class T>
  void write_block(const std::string& dset, const std::vector<hsize_t>& global_dims, const std::vector<hsize_t>& start,
                   const std::vector<hsize_t>& count, const T* data);
  template <class T>
  void write_rows(const std::string& dset, const std::vector<hsize_t>& global_dims, hsize_t row_offset, hsize_t rows,
                  const T* data);

  template <class T>
  std::vector<T> read(const std::string& dset, std::vector<hsize_t>* dims = nullptr) const;
  std::vector<hsize_t> dims(const std::string& dset) const;

  void write_attr(const std::string& obj, const std::string& name, const std::string& value);
  // Numeric scalar attributes (h5py reads them as numbers; read_attr gives their text: "7").
  // Named apart from write_attr: overloads on double and int64_t made an int argument ambiguous.
  void write_double_attr(const std::string& obj, const std::string& name, double value);
  void write_int64_attr(const std::string& obj, const std::string& name, int64_t value);
  std::string read_attr(const std::string& obj, const std::string& name) const;
  // A numeric attribute (a number, or text that is one): throws "<path>: attribute <name> is
  // '<text>', not a finite number" otherwise.
  double read_number_attr(const std::string& obj, const std::string& name) const;
  std::vector<std::string> attr_names(const std::string& obj) const;
  bool has_attr(const std::string& obj, const std::string& name) const;

 private:
  H5File(hid_t id, std::string path, const Comm& comm) : id_(id), path_(std::move(path)), comm_(comm) {}
  hid_t handle() const;     // the HDF5 file, opened here on first use for a snapshot's deferred data
  void release() noexcept;  // closes without checking (destructor, move)
  mutable hid_t id_ = -1;
  std::string path_;
  Comm comm_;
  std::shared_ptr<const H5Snapshot> snapshot_;  // files opened for reading
  bool in_memory_ = false;                      // create_in_memory: close() writes the image to path_
};

// Writes `path` atomically: `fill` writes the file's contents into an in-memory file, which is then
// written out under a temporary name and moved into place (the previous file stays whole until the
// new one is complete; a signal removes the temporary). `before_commit`, when given, runs between
// the complete temporary and the move (a checkpoint removes its stale .pt there). For checkpoints
// and restart files.
void write_h5_atomic(const std::string& path, const std::function<void(H5File&)>& fill,
                     const std::function<void()>& before_commit = {});

}  // namespace tessera::io
