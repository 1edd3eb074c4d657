// H5Snapshot: everything tessera reads from an HDF5 file (groups, dataset shapes and data,
// string and numeric attributes), decoded by HDF5 in a child process (core::run_in_child) and handed to this
// one as plain bytes. HDF5 1.10 crashes inside the library on some damaged files (found by
// fuzzing; docs/reliability.md "Fuzzing"): such a crash now ends the child, and the reader gets
// an Error. Data beyond a budget (kDataBudget) stays in the file and is read in-process when asked
// for ("deferred"): big datasets are tessera's own outputs, and are read lazily, step by step.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tessera::io {

struct H5Snapshot {
  static constexpr size_t kDataBudget = size_t{64} << 20;

  // The element types a snapshot carries; data keeps the file's own width.
  enum class Type : uint8_t { Other, Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float32, Float64 };

  struct Attribute {
    std::string value;  // the text, or the error reading it (error = true)
    bool error = false;
  };
  struct Object {
    bool group = false;
    bool dataset = false;               // neither: a named datatype or an unknown kind of object
    std::vector<std::string> children;  // groups: link names in HDF5's name order
    std::vector<hsize_t> dims;          // datasets
    Type type = Type::Other;
    std::string data;       // raw elements of `type`, unless deferred or error
    bool deferred = false;  // over the budget: read from the file on demand
    std::string error;      // why the data cannot be read (a damaged header, an odd type)
    std::map<std::string, Attribute> attributes;
  };

  std::map<std::string, Object> objects;  // key: absolute path, "/" for the root group

  // Opens `path` with HDF5 in a child process; throws Error when HDF5 cannot open it or crashes.
  static std::shared_ptr<const H5Snapshot> take(const std::string& path);
  // The key for a path as tessera's readers write it ("x", "/tensors/x", "/tensors/").
  static std::string key(const std::string& path);
  const Object* find(const std::string& path) const;
};

// "" when `dims` elements of `element_bytes` can come from a file of `file_bytes`; otherwise the
// error naming `path`, `dset` and the declared shape (a damaged header).
std::string implausible_shape(const std::string& path, const std::string& dset, const std::vector<hsize_t>& dims,
                              size_t element_bytes, double file_bytes);

// Why reading dataset `dset` (open as `d`) of `path` failed, as one error message: a compression
// filter this HDF5 library cannot decode (h5py's lzf, a plugin's), by name, with what to do; else
// damaged data (a checksum or decompression that failed).
std::string read_failure(const std::string& path, const std::string& dset, hid_t d);

// The names of an HDF5 object's attributes, in HDF5's name order.
std::vector<std::string> attribute_names(hid_t obj);

// A single integer or floating-point attribute (open as `a`, of `type` and `space`) as text:
// integers exactly ("7"), floats to 17 digits. "" when it is not one number or cannot be read.
// Files written by h5py hold counts such as Planetoid's num_classes as numbers.
std::string number_attribute_text(hid_t a, hid_t type, hid_t space);

}  // namespace tessera::io
