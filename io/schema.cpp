#include "io/schema.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "mesh/error.hpp"

namespace tessera::io {
namespace {

std::string type_name(KeyType t) {
  switch (t) {
    case KeyType::Bool: return "bool";
    case KeyType::Int: return "integer";
    case KeyType::Float: return "number";
    case KeyType::String: return "string";
    case KeyType::Choice: return "choice";
    case KeyType::FloatList: return "list of numbers";
    case KeyType::IntList: return "list of integers";
    case KeyType::StringList: return "list of strings";
  }
  return "?";
}

std::string num(double x) { return cat(x); }

}  // namespace

std::string KeySpec::expected() const {
  std::string range;
  if (std::isfinite(min)) range += cat(min_exclusive ? " > " : " >= ", num(min));
  if (std::isfinite(max)) range += cat(range.empty() ? " <= " : " and <= ", num(max));
  switch (type) {
    case KeyType::Bool: return "true or false";
    case KeyType::Int: return "an integer" + range;
    case KeyType::Float: return "a number" + range;
    case KeyType::String: return "a string";
    case KeyType::Choice: {
      std::string s = "one of: ";
      for (size_t i = 0; i < choices.size(); ++i) s += (i ? ", " : "") + choices[i];
      return s;
    }
    case KeyType::FloatList:
    case KeyType::IntList:
    case KeyType::StringList: {
      std::string n = list_size > 0 ? cat("a list of ", list_size, " ") : std::string("a list of ");
      std::string what = type == KeyType::FloatList ? "numbers" : type == KeyType::IntList ? "integers" : "strings";
      return n + what + (range.empty() ? "" : ", each" + range) + (list_size > 0 ? "" : " (may be empty)");
    }
  }
  return "?";
}

KeySpec& Schema::add(std::string path, KeyType type, std::string default_yaml, std::string doc) {
  if (find(path)) throw Error(cat("schema ", app_, ": key ", path, " defined twice"));
  KeySpec k;
  k.path = std::move(path);
  k.type = type;
  k.default_yaml = std::move(default_yaml);
  k.doc = std::move(doc);
  keys_.push_back(std::move(k));
  return keys_.back();
}

KeySpec& Schema::required(std::string path, KeyType type, std::string doc) {
  KeySpec& k = add(std::move(path), type, "", std::move(doc));
  k.required = true;
  return k;
}

void Schema::section(std::string path, std::string doc) { sections_.emplace_back(std::move(path), std::move(doc)); }

const KeySpec* Schema::find(const std::string& path) const {
  for (const auto& k : keys_)
    if (k.path == path) return &k;
  return nullptr;
}

bool Schema::is_section(const std::string& path) const {
  const std::string pre = path.empty() ? "" : path + ".";
  for (const auto& k : keys_)
    if (k.path.compare(0, pre.size(), pre) == 0 && k.path.size() > pre.size()) return true;
  return false;
}

std::vector<std::string> Schema::children(const std::string& section) const {
  const std::string pre = section.empty() ? "" : section + ".";
  std::vector<std::string> out;
  for (const auto& k : keys_) {
    if (k.path.compare(0, pre.size(), pre) != 0) continue;
    std::string rest = k.path.substr(pre.size());
    std::string head = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), head) == out.end()) out.push_back(head);
  }
  return out;
}

std::string Schema::help_text() const {
  std::ostringstream os;
  os << "Deck keys (YAML; override any with --set key.path=value):\n";
  for (const auto& k : keys_) {
    os << "  " << k.path << "  (" << type_name(k.type) << "; "
       << (k.required ? std::string("required") : k.default_yaml.empty() ? std::string("optional")
                                                                          : "default " + k.default_yaml)
       << ")\n      " << k.doc << "\n      expected: " << k.expected() << "\n";
  }
  return os.str();
}

std::string Schema::markdown() const {
  std::ostringstream os;
  os << "## " << app_ << "\n\n";
  for (const auto& [path, doc] : sections_) os << "- `" << path << "`: " << doc << "\n";
  if (!sections_.empty()) os << "\n";
  os << "| key | type | default | expected | meaning |\n|---|---|---|---|---|\n";
  for (const auto& k : keys_) {
    std::string def = k.required ? "**required**" : k.default_yaml.empty() ? "(optional)" : "`" + k.default_yaml + "`";
    std::string exp = k.expected();
    for (auto& c : exp)
      if (c == '|') c = '/';
    os << "| `" << k.path << "` | " << type_name(k.type) << " | " << def << " | " << exp << " | "
       << k.doc << " |\n";
  }
  return os.str();
}

}  // namespace tessera::io
