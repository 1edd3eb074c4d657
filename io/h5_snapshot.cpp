#include "io/h5_snapshot.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/bytes.hpp"
#include "core/child_process.hpp"
#include "core/error.hpp"

namespace tessera::io {
namespace {

using Type = H5Snapshot::Type;

// --- the child: walk the file with HDF5 ---------------------------------------------------------

Type type_of(hid_t file_type) {
  const H5T_class_t c = H5Tget_class(file_type);
  const size_t size = H5Tget_size(file_type);
  if (c == H5T_FLOAT) return size == 4 ? Type::Float32 : size == 8 ? Type::Float64 : Type::Other;
  if (c != H5T_INTEGER) return Type::Other;
  const bool is_signed = H5Tget_sign(file_type) == H5T_SGN_2;
  switch (size) {
    case 1:
      return is_signed ? Type::Int8 : Type::UInt8;
    case 2:
      return is_signed ? Type::Int16 : Type::UInt16;
    case 4:
      return is_signed ? Type::Int32 : Type::UInt32;
    case 8:
      return is_signed ? Type::Int64 : Type::UInt64;
    default:
      return Type::Other;
  }
}

hid_t memory_type(Type t) {
  switch (t) {
    case Type::Int8:
      return H5T_NATIVE_INT8;
    case Type::UInt8:
      return H5T_NATIVE_UINT8;
    case Type::Int16:
      return H5T_NATIVE_INT16;
    case Type::UInt16:
      return H5T_NATIVE_UINT16;
    case Type::Int32:
      return H5T_NATIVE_INT32;
    case Type::UInt32:
      return H5T_NATIVE_UINT32;
    case Type::Int64:
      return H5T_NATIVE_INT64;
    case Type::UInt64:
      return H5T_NATIVE_UINT64;
    case Type::Float32:
      return H5T_NATIVE_FLOAT;
    case Type::Float64:
      return H5T_NATIVE_DOUBLE;
    default:
      return -1;
  }
}

size_t width(Type t) {
  switch (t) {
    case Type::Int8:
    case Type::UInt8:
      return 1;
    case Type::Int16:
    case Type::UInt16:
      return 2;
    case Type::Int32:
    case Type::UInt32:
    case Type::Float32:
      return 4;
    default:
      return 8;
  }
}

struct Walker {
  std::string path;
  double file_bytes = 0;
  size_t budget = H5Snapshot::kDataBudget;
  H5Snapshot snap;
  std::vector<haddr_t> seen;  // hard links can form cycles

  // A string attribute as H5File::read_attr always read it; anything else is an error to report
  // if a reader asks for it.
  H5Snapshot::Attribute attribute(hid_t obj, const char* name) {
    H5Snapshot::Attribute out{"", true};
    const hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return {cat(path, ": cannot open attribute ", name), true};
    const hid_t type = H5Aget_type(a), space = H5Aget_space(a);
    if (type >= 0 && space >= 0 && (H5Tget_class(type) == H5T_INTEGER || H5Tget_class(type) == H5T_FLOAT)) {
      const std::string text = number_attribute_text(a, type, space);
      out = text.empty() ? H5Snapshot::Attribute{cat(path, ": attribute ", name, " is not a single number"), true}
                         : H5Snapshot::Attribute{text, false};
    } else if (type < 0 || space < 0 || H5Tget_class(type) != H5T_STRING || H5Sget_simple_extent_npoints(space) != 1) {
      out.value = cat(path, ": attribute ", name, " is not a single string");
    } else if (H5Tis_variable_str(type) > 0) {
      char* s = nullptr;
      if (H5Aread(a, type, &s) >= 0)
        out = {s ? s : "", false};
      else
        out.value = cat(path, ": cannot read attribute ", name);
      if (s) H5free_memory(s);
    } else {
      std::string text(H5Tget_size(type), '\0');
      if (H5Aread(a, type, text.data()) >= 0)
        out = {text.substr(0, text.find('\0')), false};
      else
        out.value = cat(path, ": cannot read attribute ", name);
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Aclose(a);
    return out;
  }

  void dataset(hid_t d, const std::string& key, H5Snapshot::Object& o) {
    const hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    const int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (nd >= 0) {
      o.dims.resize(nd);
      H5Sget_simple_extent_dims(space, o.dims.data(), nullptr);
    }
    o.type = type >= 0 ? type_of(type) : Type::Other;
    if (nd < 0 || o.type == Type::Other) {
      const bool odd_float = type >= 0 && H5Tget_class(type) == H5T_FLOAT;
      o.error = odd_float ? cat(path, ": cannot read ", key, " (floating-point numbers of ", H5Tget_size(type),
                                " bytes; float32 and float64 are read: convert it, e.g. with h5py)")
                          : cat(path, ": cannot read ", key, " (not an array of integers or floating-point numbers)");
    } else {
      double bytes = static_cast<double>(width(o.type));
      for (auto x : o.dims) bytes *= static_cast<double>(x);
      if (std::string err = implausible_shape(path, key, o.dims, width(o.type), file_bytes); !err.empty()) {
        o.error = std::move(err);
      } else if (bytes > static_cast<double>(budget)) {
        o.deferred = true;
      } else {
        budget -= static_cast<size_t>(bytes);
        o.data.resize(static_cast<size_t>(bytes));
        if (!o.data.empty() && H5Dread(d, memory_type(o.type), H5S_ALL, H5S_ALL, H5P_DEFAULT, o.data.data()) < 0) {
          o.data.clear();
          o.error = read_failure(path, key, d);
        }
      }
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
  }

  void object(hid_t obj, const std::string& key) {
    H5O_info_t info;
    if (H5Oget_info(obj, &info) < 0) return;
    const bool again = std::find(seen.begin(), seen.end(), info.addr) != seen.end();
    seen.push_back(info.addr);
    H5Snapshot::Object& o = snap.objects[key];
    o.group = info.type == H5O_TYPE_GROUP;
    o.dataset = info.type == H5O_TYPE_DATASET;
    if (again) return;
    for (const auto& name : attribute_names(obj)) o.attributes[name] = attribute(obj, name.c_str());
    if (info.type == H5O_TYPE_DATASET) {
      dataset(obj, key, o);
    } else if (o.group) {
      // Hard links only: a soft or external link may point anywhere (another file included). It
      // is recorded, not listed, so that asking for it by name says what it is rather than that
      // nothing of that name exists.
      struct Links {
        std::vector<std::string> hard;
        std::vector<std::pair<std::string, H5L_type_t>> other;
      } links;
      H5Literate(
          obj, H5_INDEX_NAME, H5_ITER_INC, nullptr,
          [](hid_t, const char* name, const H5L_info_t* li, void* out) -> herr_t {
            auto* l = static_cast<Links*>(out);
            if (li->type == H5L_TYPE_HARD)
              l->hard.push_back(name);
            else
              l->other.emplace_back(name, li->type);
            return 0;
          },
          &links);
      for (const auto& [name, type] : links.other) {
        const std::string child = key == "/" ? "/" + name : key + "/" + name;
        const char* kind = type == H5L_TYPE_SOFT       ? "a soft link"
                           : type == H5L_TYPE_EXTERNAL ? "an external link (to another file)"
                                                       : "a user-defined link";
        snap.objects[child].error =
            cat(path, ": ", child, " is ", kind, "; tessera follows no links: store the data itself in the file");
      }
      // Each link opens on its own, so one damaged object does not hide the rest.
      for (const auto& name : links.hard) {
        const hid_t child = H5Oopen(obj, name.c_str(), H5P_DEFAULT);
        if (child < 0) continue;
        snap.objects[key].children.push_back(name);
        object(child, key == "/" ? "/" + name : key + "/" + name);
        H5Oclose(child);
      }
    }
  }
};

// --- plain bytes between the processes ----------------------------------------------------------

std::string serialise(const H5Snapshot& s) {
  core::ByteWriter w;
  w.u64(s.objects.size());
  for (const auto& [key, o] : s.objects) {
    w.str(key);
    w.u64(o.group);
    w.u64(o.dataset);
    w.u64(o.children.size());
    for (const auto& c : o.children) w.str(c);
    w.u64(o.dims.size());
    for (auto d : o.dims) w.u64(d);
    w.u64(static_cast<uint64_t>(o.type));
    w.str(o.data);
    w.u64(o.deferred);
    w.str(o.error);
    w.u64(o.attributes.size());
    for (const auto& [name, a] : o.attributes) {
      w.str(name);
      w.str(a.value);
      w.u64(a.error);
    }
  }
  return w.take();
}

H5Snapshot parse(const std::string& bytes) {
  core::ByteReader r(bytes);
  H5Snapshot s;
  for (uint64_t n = r.u64(), i = 0; i < n; ++i) {
    H5Snapshot::Object& o = s.objects[r.str()];
    o.group = r.u64();
    o.dataset = r.u64();
    for (uint64_t c = r.u64(), k = 0; k < c; ++k) o.children.push_back(r.str());
    for (uint64_t c = r.u64(), k = 0; k < c; ++k) o.dims.push_back(r.u64());
    o.type = static_cast<Type>(r.u64());
    o.data = r.str();
    o.deferred = r.u64();
    o.error = r.str();
    for (uint64_t c = r.u64(), k = 0; k < c; ++k) {
      std::string name = r.str();
      H5Snapshot::Attribute& a = o.attributes[name];
      a.value = r.str();
      a.error = r.u64();
    }
  }
  return s;
}

}  // namespace

std::string read_failure(const std::string& path, const std::string& dset, hid_t d) {
  const hid_t plist = H5Dget_create_plist(d);
  std::string reason;
  if (plist >= 0) {
    const int n = H5Pget_nfilters(plist);
    for (int k = 0; k < n && reason.empty(); ++k) {
      unsigned flags = 0, config = 0;
      size_t nvalues = 0;
      char name[128] = {};
      const H5Z_filter_t id = H5Pget_filter2(plist, unsigned(k), &flags, &nvalues, nullptr, sizeof name, name, &config);
      if (id >= 0 && H5Zfilter_avail(id) <= 0)
        reason = cat(" (compressed with filter '", name[0] ? name : "unnamed", "', id ", id,
                     ", which this HDF5 library cannot decode: rewrite the file without it, e.g. h5repack -f NONE, "
                     "or with gzip)");
    }
    H5Pclose(plist);
  }
  return cat(path, ": cannot read ", dset,
             reason.empty() ? " (the data is damaged: a checksum or decompression failed)" : reason);
}

std::string implausible_shape(const std::string& path, const std::string& dset, const std::vector<hsize_t>& dims,
                              size_t element_bytes, double file_bytes) {
  // A damaged header can declare any shape (found by fuzz_planetoid: 300 GB for a 5 kB file, and
  // products that overflow, after which HDF5 would write past the buffer). No compression HDF5
  // ships packs data more than about 1000:1 (deflate's limit), so a dataset larger than that
  // multiple of the file is refused before anything is allocated.
  double bytes = static_cast<double>(element_bytes);
  for (auto x : dims) bytes *= static_cast<double>(x);
  if (bytes <= 1100.0 * file_bytes + 1e6) return "";
  std::string shape;
  for (auto x : dims) shape += (shape.empty() ? "" : ", ") + std::to_string(x);
  return cat(path, ": ", dset, " declares shape [", shape, "] (", bytes, " bytes), more than a file of ", file_bytes,
             " bytes can hold: the file is damaged");
}

std::vector<std::string> attribute_names(hid_t obj) {
  std::vector<std::string> names;
  H5Aiterate2(
      obj, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

std::string number_attribute_text(hid_t a, hid_t type, hid_t space) {
  if (H5Sget_simple_extent_npoints(space) != 1) return "";
  if (H5Tget_class(type) == H5T_INTEGER) {
    int64_t v = 0;
    return H5Aread(a, H5T_NATIVE_INT64, &v) >= 0 ? std::to_string(v) : "";
  }
  if (H5Tget_class(type) == H5T_FLOAT) {
    double v = 0;
    if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) return "";
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    return text;
  }
  return "";
}

std::shared_ptr<const H5Snapshot> H5Snapshot::take(const std::string& path) {
  const std::string bytes = core::run_in_child(
      [&] {
        const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        if (id < 0) throw Error(cat(path, ": not a readable HDF5 file"));
        Walker w;
        w.path = path;
        hsize_t size = 0;
        H5Fget_filesize(id, &size);
        w.file_bytes = static_cast<double>(size);
        w.object(id, "/");
        H5Fclose(id);
        if (!w.snap.objects.count("/"))
          throw Error(cat(path, ": not a readable HDF5 file (its root group is damaged)"));
        return serialise(w.snap);
      },
      cat(path, ": HDF5"), " while reading this file: the file is damaged");
  return std::make_shared<const H5Snapshot>(parse(bytes));
}

std::string H5Snapshot::key(const std::string& path) {
  std::string k = "/";
  for (size_t at = 0; at < path.size();) {
    const size_t end = std::min(path.find('/', at), path.size());
    if (end > at) {
      if (k.size() > 1) k += '/';
      k.append(path, at, end - at);
    }
    at = end + 1;
  }
  return k;
}

const H5Snapshot::Object* H5Snapshot::find(const std::string& path) const {
  auto it = objects.find(key(path));
  return it == objects.end() ? nullptr : &it->second;
}

}  // namespace tessera::io
