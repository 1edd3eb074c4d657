#include "io/deck_difference.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/error.hpp"

namespace tessera::io {
namespace {

struct Leaf {
  std::string key;   // dotted
  std::string text;  // the value in flow form
  YAML::Node value;
};

// Every leaf of a YAML map, in document order; a list is one leaf.
void flatten(const YAML::Node& node, const std::string& prefix, std::vector<Leaf>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node)
      flatten(kv.second, prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar(), out);
    return;
  }
  if (node.IsScalar()) {
    out.push_back({prefix, node.Scalar(), node});
    return;
  }
  YAML::Emitter e;
  e << YAML::Flow << node;
  out.push_back({prefix, e.c_str(), node});
}

std::optional<double> as_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return *end == '\0' ? std::optional<double>(v) : std::nullopt;
}

std::optional<bool> as_bool(const YAML::Node& n) {
  bool b = false;
  return YAML::convert<bool>::decode(n, b) ? std::optional<bool>(b) : std::nullopt;
}

// The same setting written two ways is no difference: 1e-6 and 1.0e-6, True and true, [0.90, 0.95]
// and [0.9, 0.95] (a deck that left a key at its default could not resume a run of a shipped
// deck that wrote it out; a review found it, 2026-12-07).
bool same_value(const YAML::Node& a, const YAML::Node& b) {
  if (a.IsScalar() && b.IsScalar()) {
    if (a.Scalar() == b.Scalar()) return true;
    const auto x = as_number(a.Scalar()), y = as_number(b.Scalar());
    if (x && y) return *x == *y;
    const auto p = as_bool(a), q = as_bool(b);
    return p && q && *p == *q;
  }
  if (a.IsSequence() && b.IsSequence()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!same_value(a[i], b[i])) return false;
    return true;
  }
  if (a.IsMap() && b.IsMap()) {
    if (a.size() != b.size()) return false;
    for (const auto& kv : a)
      if (!b[kv.first.Scalar()] || !same_value(kv.second, b[kv.first.Scalar()])) return false;
    return true;
  }
  return a.IsNull() && b.IsNull();
}

std::vector<Leaf> leaves(const std::string& yaml, const char* what) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw Error(cat(what, " is not YAML: ", e.what()));
  }
  if (!root.IsMap()) throw Error(cat(what, " is not a YAML map"));
  std::vector<Leaf> out;
  flatten(root, "", out);
  return out;
}

}  // namespace

std::optional<DeckDifference> first_deck_difference(const std::string& stored_yaml, const std::string& deck_yaml,
                                                    const std::vector<std::string>& sections,
                                                    const std::vector<std::string>& ignored, bool absent_differs) {
  const auto stored = leaves(stored_yaml, "the stored deck"), now = leaves(deck_yaml, "the deck");
  const auto in_sections = [&](const std::string& key) {
    return sections.empty() || std::any_of(sections.begin(), sections.end(),
                                           [&](const std::string& s) { return key.rfind(s + ".", 0) == 0; });
  };
  const auto find = [](const std::vector<Leaf>& leaves, const std::string& key) {
    return std::find_if(leaves.begin(), leaves.end(), [&](const Leaf& l) { return l.key == key; });
  };
  for (const Leaf& l : now) {
    if (!in_sections(l.key)) continue;
    const auto it = find(stored, l.key);
    if (it == stored.end()
            ? absent_differs
            : !same_value(it->value, l.value) && std::find(ignored.begin(), ignored.end(), l.key) == ignored.end())
      return DeckDifference{l.key, it != stored.end() ? it->text : "(not set)", l.text};
  }
  if (absent_differs)
    for (const Leaf& l : stored)
      if (in_sections(l.key) && find(now, l.key) == now.end()) return DeckDifference{l.key, l.text, "(not set)"};
  return std::nullopt;
}

}  // namespace tessera::io
