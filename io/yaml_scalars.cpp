#include "io/yaml_scalars.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <string>

namespace tessera::io::detail {

bool as_bool(const YAML::Node& n, bool& out) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "yes") return out = true, true;
  if (s == "false" || s == "False" || s == "no") return out = false, true;
  return false;
}
bool as_int(const YAML::Node& n, int64_t& out) {
  if (!n.IsScalar() || n.Tag() == "!") return false;  // quoted strings are not numbers
  const std::string& s = n.Scalar();
  size_t pos = 0;
  try {
    out = std::stoll(s, &pos);
  } catch (...) {
    return false;
  }
  return pos == s.size();
}
bool as_float(const YAML::Node& n, double& out) {
  if (!n.IsScalar() || n.Tag() == "!") return false;
  const std::optional<double> x = parse_number(n.Scalar());
  if (x) out = *x;
  return x.has_value();
}
std::optional<double> parse_number(const std::string& s) {
  size_t pos = 0;
  double x = 0;
  try {
    x = std::stod(s, &pos);
  } catch (...) {
    return std::nullopt;
  }
  if (pos != s.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

}  // namespace tessera::io::detail
