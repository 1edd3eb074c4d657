#include "io/deck_difference.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <utility>

#include "core/error.hpp"

namespace tessera::io {
namespace {

// Every leaf of a YAML map as (dotted key, value in flow form), in document order; a list is one
// leaf.
void flatten(const YAML::Node& node, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node)
      flatten(kv.second, prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar(), out);
    return;
  }
  if (node.IsScalar()) {
    out.emplace_back(prefix, node.Scalar());
    return;
  }
  YAML::Emitter e;
  e << YAML::Flow << node;
  out.emplace_back(prefix, e.c_str());
}

std::vector<std::pair<std::string, std::string>> leaves(const std::string& yaml, const char* what) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw Error(cat(what, " is not YAML: ", e.what()));
  }
  if (!root.IsMap()) throw Error(cat(what, " is not a YAML map"));
  std::vector<std::pair<std::string, std::string>> out;
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
  const auto find = [](const auto& leaves, const std::string& key) {
    return std::find_if(leaves.begin(), leaves.end(), [&](const auto& kv) { return kv.first == key; });
  };
  for (const auto& [key, value] : now) {
    if (!in_sections(key)) continue;
    const auto it = find(stored, key);
    if (it == stored.end() ? absent_differs
                           : it->second != value && std::find(ignored.begin(), ignored.end(), key) == ignored.end())
      return DeckDifference{key, it != stored.end() ? it->second : "(not set)", value};
  }
  if (absent_differs)
    for (const auto& [key, value] : stored)
      if (in_sections(key) && find(now, key) == now.end()) return DeckDifference{key, value, "(not set)"};
  return std::nullopt;
}

}  // namespace tessera::io
