// H5File's attributes: strings and numeric scalars written, read as text (numbers too) or as a
// number, listed and looked for.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.hpp"
#include "io/h5.hpp"
#include "io/h5_detail.hpp"
#include "io/h5_snapshot.hpp"

namespace tessera::io {

using detail::check;
using detail::Handle;
using detail::native;

void H5File::write_attr(const std::string& obj, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  H5Tset_size(type, value.size() + 1);
  H5Tset_strpad(type, H5T_STR_NULLTERM);
  H5Tset_cset(type, H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  Handle o(H5Oopen(id_, obj.c_str(), H5P_DEFAULT), H5Oclose, cat(path_, ": no object ", obj));
  Handle a(H5Acreate2(o, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
           cat(path_, ": cannot create attribute ", name));
  check(H5Awrite(a, type, value.c_str()), cat(path_, ": cannot write attribute ", name));
}

namespace {
template <class T>
void write_scalar_attr(hid_t file, const std::string& path, const std::string& obj, const std::string& name, T value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  Handle o(H5Oopen(file, obj.c_str(), H5P_DEFAULT), H5Oclose, cat(path, ": no object ", obj));
  Handle a(H5Acreate2(o, name.c_str(), native<T>(), space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
           cat(path, ": cannot create attribute ", name));
  check(H5Awrite(a, native<T>(), &value), cat(path, ": cannot write attribute ", name));
}
}  // namespace

void H5File::write_double_attr(const std::string& obj, const std::string& name, double value) {
  write_scalar_attr(id_, path_, obj, name, value);
}

void H5File::write_int64_attr(const std::string& obj, const std::string& name, int64_t value) {
  write_scalar_attr(id_, path_, obj, name, value);
}

std::string H5File::read_attr(const std::string& obj, const std::string& name) const {
  if (snapshot_) {
    const H5Snapshot::Object* o = snapshot_->find(obj);
    if (!o) throw Error(cat(path_, ": no object ", obj));
    auto it = o->attributes.find(name);
    if (it == o->attributes.end()) throw Error(cat(path_, ": ", obj, " has no attribute ", name));
    if (it->second.error) throw Error(it->second.value);
    return it->second.value;
  }
  Handle o(H5Oopen(id_, obj.c_str(), H5P_DEFAULT), H5Oclose, cat(path_, ": no object ", obj));
  if (H5Aexists(o, name.c_str()) <= 0) throw Error(cat(path_, ": ", obj, " has no attribute ", name));
  Handle a(H5Aopen(o, name.c_str(), H5P_DEFAULT), H5Aclose, "H5Aopen");
  Handle type(H5Aget_type(a), H5Tclose, "H5Aget_type");
  if (H5Tget_class(type) == H5T_INTEGER || H5Tget_class(type) == H5T_FLOAT) {
    Handle space(H5Aget_space(a), H5Sclose, "H5Aget_space");
    const std::string text = number_attribute_text(a, type, space);
    if (text.empty()) throw Error(cat(path_, ": attribute ", name, " of ", obj, " is not a single number"));
    return text;
  }
  if (H5Tis_variable_str(type) > 0) {
    char* s = nullptr;
    check(H5Aread(a, type, &s), "H5Aread");
    std::string out(s ? s : "");
    H5free_memory(s);
    return out;
  }
  std::string out(H5Tget_size(type), '\0');
  check(H5Aread(a, type, out.data()), "H5Aread");
  return out.substr(0, out.find('\0'));
}

double H5File::read_number_attr(const std::string& obj, const std::string& name) const {
  const std::string text = read_attr(obj, name);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    throw Error(cat(path_, ": attribute ", name, " is '", text, "', not a finite number"));
  return v;
}

bool H5File::has_attr(const std::string& obj, const std::string& name) const {
  const std::vector<std::string> names = attr_names(obj);
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> H5File::attr_names(const std::string& obj) const {
  if (snapshot_) {
    const H5Snapshot::Object* o = snapshot_->find(obj);
    if (!o) throw Error(cat(path_, ": no object ", obj));
    std::vector<std::string> names;
    for (const auto& [name, a] : o->attributes) names.push_back(name);
    return names;
  }
  Handle o(H5Oopen(id_, obj.c_str(), H5P_DEFAULT), H5Oclose, cat(path_, ": no object ", obj));
  return attribute_names(o);
}

}  // namespace tessera::io
