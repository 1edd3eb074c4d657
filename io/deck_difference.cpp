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
                                                    const std::vector<std::string>& ignored) {
  const auto stored = leaves(stored_yaml, "the stored deck"), now = leaves(deck_yaml, "the deck");
  for (const auto& [key, value] : now) {
    const bool in_section =
        std::any_of(sections.begin(), sections.end(), [&](const std::string& s) { return key.rfind(s + ".", 0) == 0; });
    if (!in_section || std::find(ignored.begin(), ignored.end(), key) != ignored.end()) continue;
    const auto it = std::find_if(stored.begin(), stored.end(), [&](const auto& kv) { return kv.first == key; });
    if (it != stored.end() && it->second != value) return DeckDifference{key, it->second, value};
  }
  return std::nullopt;
}

}  // namespace tessera::io
