// What io/h5.cpp and io/h5_attributes.cpp share to call HDF5's C API: owned identifiers, the
// native type of each stored element type, and error checks that add the operating system's
// reason. Internal to io/ (not installed: *_detail.hpp).
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace tessera::io::detail {

template <class T>
hid_t native();
template <>
inline hid_t native<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
inline hid_t native<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
inline hid_t native<int32_t>() {
  return H5T_NATIVE_INT32;
}
template <>
inline hid_t native<int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
inline hid_t native<uint8_t>() {
  return H5T_NATIVE_UINT8;
}

// Owns one HDF5 identifier and closes it with the matching function.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  Handle(hid_t i, herr_t (*c)(hid_t), const std::string& what) : id(i), close(c) {
    if (id < 0) throw Error(what);
  }
  ~Handle() {
    if (id >= 0) close(id);
  }
  Handle(const Handle&) = delete;
  operator hid_t() const { return id; }
};

// Throws Error(what) when `rc` is negative, with the operating system's reason from HDF5's error
// stack where a file operation failed ("...: No space left on device").
void check(herr_t rc, const std::string& what);

}  // namespace tessera::io::detail
