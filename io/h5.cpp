#include "io/h5.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/regular_file.hpp"
#include "io/h5_close.hpp"
#include "io/h5_detail.hpp"

namespace tessera::io {

namespace {

// The operating system's reason on HDF5's error stack, if a file operation failed ("No space left
// on device"): HDF5's file drivers record it as "..., error message = '<strerror>', ...".
std::string system_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        const std::string desc = e->desc ? e->desc : "";
        const std::string key = "error message = '";
        if (const size_t at = desc.find(key); at != std::string::npos) {
          const size_t begin = at + key.size(), end = desc.find('\'', begin);
          if (end != std::string::npos) *static_cast<std::string*>(out) = desc.substr(begin, end - begin);
        }
        return 0;
      },
      &reason);
  return reason;
}

}  // namespace

namespace detail {

void check(herr_t rc, const std::string& what) {
  if (rc >= 0) return;
  const std::string reason = system_reason();
  throw Error(reason.empty() ? what : cat(what, ": ", reason));
}

}  // namespace detail

namespace {

using detail::check;
using detail::Handle;
using detail::native;

// Silences HDF5's own error stack printing; we report errors ourselves.
struct Quiet {
  Quiet() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};

hid_t transfer_plist(const Comm& comm) {
  hid_t p = H5Pcreate(H5P_DATASET_XFER);
#if TESSERA_HAVE_MPI && defined(H5_HAVE_PARALLEL)
  if (comm.size() > 1) H5Pset_dxpl_mpio(p, H5FD_MPIO_COLLECTIVE);
#endif
  return p;
}

// File access: MPI-IO when several ranks share the file.
hid_t access_plist(const std::string& path, const Comm& comm) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (comm.size() > 1) {
#if TESSERA_HAVE_MPI && defined(H5_HAVE_PARALLEL)
    if (H5Pset_fapl_mpio(fapl, comm.mpi(), MPI_INFO_NULL) < 0) {
      H5Pclose(fapl);
      throw Error(path + ": cannot set MPI-IO access");
    }
#else
    H5Pclose(fapl);
    throw Error(path + ": this build's HDF5 is not parallel; cannot write one file from several ranks");
#endif
  }
  return fapl;
}

}  // namespace

H5File H5File::create(const std::string& path, const Comm& comm) {
  static Quiet quiet;
  Handle fapl(access_plist(path, comm), H5Pclose, "H5Pcreate");
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (id < 0) throw Error(cat(path, ": cannot create HDF5 file"));
  return H5File(id, path, comm);
}

H5File H5File::create_in_memory(const std::string& path) {
  static Quiet quiet;
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate");
  check(H5Pset_fapl_core(fapl, size_t(1) << 20, /*backing_store=*/false),
        cat(path, ": cannot set HDF5's memory driver"));
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (id < 0) throw Error(cat(path, ": cannot create HDF5 file in memory"));
  H5File f(id, path, Comm::self());
  f.in_memory_ = true;
  return f;
}

H5File H5File::open_read(const std::string& path) {
  static Quiet quiet;
  core::require_regular_file(path, "an HDF5 file");
  H5File f(-1, path, Comm());
  f.snapshot_ = H5Snapshot::take(path);
  return f;
}

hid_t H5File::handle() const {
  if (id_ < 0 && snapshot_) {
    id_ = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id_ < 0) throw Error(cat(path_, ": not a readable HDF5 file"));
  }
  return id_;
}

H5File::H5File(H5File&& o) noexcept
    : id_(o.id_),
      path_(std::move(o.path_)),
      comm_(o.comm_),
      snapshot_(std::move(o.snapshot_)),
      in_memory_(o.in_memory_) {
  o.id_ = -1;
}
H5File& H5File::operator=(H5File&& o) noexcept {
  if (this != &o) {
    release();
    id_ = o.id_;
    path_ = std::move(o.path_);
    comm_ = o.comm_;
    snapshot_ = std::move(o.snapshot_);
    in_memory_ = o.in_memory_;
    o.id_ = -1;
  }
  return *this;
}
H5File::~H5File() { release(); }
void H5File::release() noexcept {
  if (id_ >= 0) {
    std::string refused;  // an abandoned file's close must not fail either (it is removed)
    detail::close_reserved(id_, refused);
  }
  id_ = -1;
  snapshot_.reset();
}
void H5File::close() {
  const hid_t id = id_;
  id_ = -1;
  snapshot_.reset();
  if (id < 0) return;
  if (!in_memory_) {
    std::string refused;
    if (detail::close_reserved(id, refused) < 0 || !refused.empty()) {
      const std::string reason = refused.empty() ? system_reason() : refused;
      throw Error(cat(path_, ": cannot finish writing the HDF5 file: ", reason.empty() ? "HDF5 failed" : reason));
    }
    return;
  }
  std::vector<char> image;
  const ssize_t size = H5Fflush(id, H5F_SCOPE_LOCAL) < 0 ? -1 : H5Fget_file_image(id, nullptr, 0);
  if (size >= 0) {
    image.resize(static_cast<size_t>(size));
    if (H5Fget_file_image(id, image.data(), image.size()) != size) image.clear();
  }
  const bool closed = H5Fclose(id) >= 0;
  if (size < 0 || (size > 0 && image.empty()) || !closed)
    throw Error(cat(path_, ": HDF5 could not finish the file in memory"));
  core::write_file(path_, image.data(), image.size());
}

bool H5File::exists(const std::string& obj) const {
  if (snapshot_) return snapshot_->find(obj) != nullptr;
  // Check each prefix: H5Lexists fails on a path whose parent is missing.
  size_t pos = 0;
  while (true) {
    pos = obj.find('/', pos + 1);
    std::string prefix = obj.substr(0, pos);
    if (!prefix.empty() && prefix != "/" && H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

void H5File::create_group(const std::string& group) {
  if (exists(group)) return;
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "H5Pcreate");
  H5Pset_create_intermediate_group(lcpl, 1);
  Handle g(H5Gcreate2(id_, group.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
           cat(path_, ": cannot create group ", group));
}

std::vector<std::string> H5File::unfollowed_links(const std::string& group) const {
  std::vector<std::string> out;
  if (!snapshot_) return out;
  const std::string k = H5Snapshot::key(group), prefix = k == "/" ? k : k + "/";
  for (const auto& [key, o] : snapshot_->objects)
    if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
        key.find('/', prefix.size()) == std::string::npos && !o.group && !o.dataset && !o.error.empty())
      out.push_back(o.error);
  return out;
}

std::vector<std::string> H5File::list(const std::string& group) const {
  if (snapshot_) {
    const H5Snapshot::Object* g = snapshot_->find(group);
    if (!g || !g->group) throw Error(cat(path_, ": no group ", group));
    return g->children;
  }
  std::vector<std::string> names;
  Handle g(H5Gopen2(id_, group.c_str(), H5P_DEFAULT), H5Gclose, cat(path_, ": no group ", group));
  H5Literate(
      g, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

template <class T>
void H5File::write_block(const std::string& dset, const std::vector<hsize_t>& gdims, const std::vector<hsize_t>& start,
                         const std::vector<hsize_t>& count, const T* data) {
  if (gdims.empty() || start.size() != gdims.size() || count.size() != gdims.size())
    throw Error(cat(path_, ": ", dset, ": block rank does not match the dataset rank"));
  auto slash = dset.rfind('/');
  if (slash != std::string::npos && slash > 0) create_group(dset.substr(0, slash));
  Handle space(H5Screate_simple(static_cast<int>(gdims.size()), gdims.data(), nullptr), H5Sclose, "H5Screate");
  Handle d(H5Dcreate2(id_, dset.c_str(), native<T>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
           cat(path_, ": cannot create dataset ", dset));
  Handle fspace(H5Dget_space(d), H5Sclose, "H5Dget_space");
  Handle mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose, "H5Screate");
  hsize_t n = 1;
  for (auto c : count) n *= c;
  if (n == 0) {
    H5Sselect_none(fspace);
    H5Sselect_none(mspace);
  } else {
    for (size_t k = 0; k < gdims.size(); ++k)
      if (start[k] + count[k] > gdims[k]) throw Error(cat(path_, ": ", dset, ": block out of range"));
    check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
          cat(path_, ": ", dset, ": cannot select block"));
  }
  Handle xfer(transfer_plist(comm_), H5Pclose, "H5Pcreate");
  check(H5Dwrite(d, native<T>(), mspace, fspace, xfer, data), cat(path_, ": cannot write ", dset));
}

template <class T>
void H5File::write_rows(const std::string& dset, const std::vector<hsize_t>& gdims, hsize_t offset, hsize_t rows,
                        const T* data) {
  std::vector<hsize_t> start(gdims.size(), 0), count(gdims);
  if (!gdims.empty()) start[0] = offset, count[0] = rows;
  write_block(dset, gdims, start, count, data);
}

template <class T>
void H5File::write(const std::string& dset, const std::vector<hsize_t>& dims, const T* data) {
  write_rows(dset, dims, 0, comm_.root() ? dims[0] : 0, data);
}

std::vector<hsize_t> H5File::dims(const std::string& dset) const {
  if (!exists(dset)) throw Error(cat(path_, ": dataset ", dset, " not found"));
  if (snapshot_) {
    const H5Snapshot::Object* d = snapshot_->find(dset);
    // Found by fuzz_checkpoint: a damaged header can make a tensor's object something else.
    if (!d->dataset && !d->error.empty()) throw Error(d->error);  // a link, say
    if (!d->dataset) throw Error(cat(path_, ": ", dset, " is not a dataset (the file is damaged?)"));
    return d->dims;
  }
  Handle d(H5Dopen2(id_, dset.c_str(), H5P_DEFAULT), H5Dclose, cat(path_, ": cannot open ", dset));
  Handle space(H5Dget_space(d), H5Sclose, "H5Dget_space");
  int nd = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(nd > 0 ? nd : 0);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

namespace {

// One element from the file's type to the reader's, clipped to its range as HDF5's own
// conversion does (and without the undefined behaviour of an out-of-range cast).
template <class T, class S>
T converted(S v) {
  if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, S>) {
    return static_cast<T>(v);
  } else if constexpr (std::is_floating_point_v<S>) {
    if (!(v == v)) return T{0};
    if (v <= static_cast<S>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<S>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else {
    if (std::cmp_less(v, std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (std::cmp_greater(v, std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

template <class T, class S>
void convert_all(const std::string& raw, std::vector<T>& out) {
  out.resize(raw.size() / sizeof(S));
  for (size_t i = 0; i < out.size(); ++i) {
    S v;
    std::memcpy(&v, raw.data() + i * sizeof(S), sizeof(S));
    out[i] = converted<T>(v);
  }
}

template <class T>
std::vector<T> from_snapshot(const H5Snapshot::Object& d) {
  using Type = H5Snapshot::Type;
  std::vector<T> out;
  switch (d.type) {
    case Type::Int8:
      convert_all<T, int8_t>(d.data, out);
      break;
    case Type::UInt8:
      convert_all<T, uint8_t>(d.data, out);
      break;
    case Type::Int16:
      convert_all<T, int16_t>(d.data, out);
      break;
    case Type::UInt16:
      convert_all<T, uint16_t>(d.data, out);
      break;
    case Type::Int32:
      convert_all<T, int32_t>(d.data, out);
      break;
    case Type::UInt32:
      convert_all<T, uint32_t>(d.data, out);
      break;
    case Type::Int64:
      convert_all<T, int64_t>(d.data, out);
      break;
    case Type::UInt64:
      convert_all<T, uint64_t>(d.data, out);
      break;
    case Type::Float32:
      convert_all<T, float>(d.data, out);
      break;
    case Type::Float64:
      convert_all<T, double>(d.data, out);
      break;
    case Type::Other:
      break;
  }
  return out;
}

}  // namespace

template <class T>
std::vector<T> H5File::read(const std::string& dset, std::vector<hsize_t>* dims_out) const {
  auto dims = this->dims(dset);
  if (snapshot_) {
    const H5Snapshot::Object& d = *snapshot_->find(dset);
    if (!d.error.empty()) throw Error(d.error);
    if (!d.deferred) {
      if (dims_out) *dims_out = dims;
      return from_snapshot<T>(d);
    }
  }
  // A damaged header's shape is refused before anything is allocated (implausible_shape).
  // (H5Fget_filesize counts space allocated but not yet flushed, so files open for writing pass.)
  hsize_t file_size = 0;
  check(H5Fget_filesize(handle(), &file_size), cat(path_, ": H5Fget_filesize"));
  if (std::string err = implausible_shape(path_, dset, dims, sizeof(T), static_cast<double>(file_size)); !err.empty())
    throw Error(err);
  hsize_t n = 1;
  for (auto x : dims) n *= x;
  std::vector<T> out(n);
  Handle d(H5Dopen2(handle(), dset.c_str(), H5P_DEFAULT), H5Dclose, cat(path_, ": cannot open ", dset));
  if (n && H5Dread(d, native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw Error(read_failure(path_, dset, d));
  if (dims_out) *dims_out = dims;
  return out;
}

void write_h5_atomic(const std::string& path, const std::function<void(H5File&)>& fill,
                     const std::function<void()>& before_commit) {
  core::ensure_parent_dir(path);
  core::TemporaryOutput temp(core::temp_path(path));
  {
    // Built in memory and written out by close(): a full disk is an Error there (create_in_memory).
    H5File f = H5File::create_in_memory(temp.path());
    fill(f);
    f.close();
  }
  if (before_commit) before_commit();
  core::commit_temp(temp.path(), path);
  temp.keep();
}

#define TESSERA_H5_INSTANTIATE(T)                                                                                    \
  template void H5File::write_block<T>(const std::string&, const std::vector<hsize_t>&, const std::vector<hsize_t>&, \
                                       const std::vector<hsize_t>&, const T*);                                       \
  template void H5File::write<T>(const std::string&, const std::vector<hsize_t>&, const T*);                         \
  template void H5File::write_rows<T>(const std::string&, const std::vector<hsize_t>&, hsize_t, hsize_t, const T*);  \
  template std::vector<T> H5File::read<T>(const std::string&, std::vector<hsize_t>*) const;
TESSERA_H5_INSTANTIATE(float)
TESSERA_H5_INSTANTIATE(double)
TESSERA_H5_INSTANTIATE(int32_t)
TESSERA_H5_INSTANTIATE(int64_t)
TESSERA_H5_INSTANTIATE(uint8_t)

}  // namespace tessera::io
