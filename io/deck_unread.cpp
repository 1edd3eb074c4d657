// Deck::unread_given_keys: keys a deck gives where its other settings leave them idle
// (Schema::read_only_when), one warning text per condition; Deck::read_yaml: the resolved deck
// without the idle keys.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/yaml_scalars.hpp"

namespace tessera::io {
namespace {

// Whether two scalars of a key of type `t` are the same value, however spelled (1e-2 and 0.01).
bool same_scalar(KeyType t, const YAML::Node& a, const YAML::Node& b) {
  switch (t) {
    case KeyType::Bool: {
      bool x = false, y = false;
      return detail::as_bool(a, x) && detail::as_bool(b, y) && x == y;
    }
    case KeyType::Int:
    case KeyType::IntList: {
      int64_t x = 0, y = 0;
      return detail::as_int(a, x) && detail::as_int(b, y) && x == y;
    }
    case KeyType::Float:
    case KeyType::FloatList: {
      double x = 0, y = 0;
      return detail::as_float(a, x) && detail::as_float(b, y) && x == y;
    }
    default:
      return a.IsScalar() && b.IsScalar() && a.Scalar() == b.Scalar();
  }
}

// Whether `value` is key `k`'s default. A key given at its default changes nothing wherever it is
// read: not worth a word (example decks spell defaults out, and a --set of a mode would make them
// all "idle").
bool is_default(const KeySpec& k, const YAML::Node& value) {
  if (k.default_yaml.empty()) return false;
  const YAML::Node d = YAML::Load(k.default_yaml);
  if (!d.IsSequence()) return same_scalar(k.type, d, value);
  if (!value.IsSequence() || d.size() != value.size()) return false;
  for (size_t i = 0; i < d.size(); ++i)
    if (!same_scalar(k.type, d[i], value[i])) return false;
  return true;
}

}  // namespace

// The value a condition compares: bools as true/false, whatever their spelling in the deck.
std::string Deck::condition_value(const std::string& key) const {
  if (!has(key)) return "";  // a key of another family: the condition does not hold
  const KeyType type = schema_->find(key)->type;
  if (is_list(type)) {
    std::string list;  // as written in a deck: "[]" for an empty list (conditions compare with it)
    for (const auto& v : node(key)) list += cat(list.empty() ? "" : ", ", v.Scalar());
    return "[" + list + "]";
  }
  return type == KeyType::Bool ? (get_bool(key) ? "true" : "false") : get_string(key);
}

bool Deck::holds(const ReadCondition& c) const {
  // Whether the deck's value of kv.key is one of kv.values (numbers compared as numbers).
  auto is_one_of = [&](const KeyValues& kv) {
    const std::string v = condition_value(kv.key);
    const bool number = is_number(schema_->find(kv.key)->type);
    return std::any_of(kv.values.begin(), kv.values.end(), [&](const std::string& w) {
      return number && !v.empty() ? detail::parse_number(v) == detail::parse_number(w) : v == w;
    });
  };
  // A key the deck lacks (another family's) holds no condition; a string key nobody set is "".
  for (const KeyValues& kv : c.any_of) {
    if (!kv.below.empty()) {
      if (has(kv.key) && has(kv.below) &&
          detail::parse_number(condition_value(kv.key)).value_or(0) <
              detail::parse_number(condition_value(kv.below)).value_or(0))
        return true;
      continue;
    }
    const bool known = has(kv.key) || schema_->find(kv.key)->type == KeyType::String;
    if (known && is_one_of(kv) != kv.other_than) return true;
  }
  return false;
}

const ReadCondition* Deck::failing_condition(const std::string& path) const {
  const auto& conditions = schema_->read_conditions();
  const auto it =
      std::find_if(conditions.begin(), conditions.end(), [&](const auto& c) { return c.covers(path) && !holds(c); });
  return it == conditions.end() ? nullptr : &*it;
}

std::vector<std::string> Deck::unread_given_keys() const {
  const auto& conditions = schema_->read_conditions();
  // Per condition (conditions registered key by key with the same text are one), the given keys
  // it is the first failing one of.
  std::vector<std::pair<const ReadCondition*, std::vector<std::string>>> unread;
  auto name_under = [&](const ReadCondition& c, const std::string& name) {
    auto same = std::find_if(unread.begin(), unread.end(),
                             [&](const auto& u) { return u.first->text() == c.text() && u.first->why == c.why; });
    if (same == unread.end()) same = unread.insert(unread.end(), {&c, {}});
    same->second.push_back(name);
  };
  for (const KeySpec& k : schema_->keys()) {
    if (!given(k.path)) continue;
    const ReadCondition* failing = failing_condition(k.path);
    if (!failing || is_default(k, node(k.path))) continue;
    name_under(*failing, k.path);
  }
  // Elements of list keys ("pinn.loss.weights[0]"): idle when the list is given, the condition
  // fails and that element differs from its default (a list is set whole to change one element).
  for (const ReadCondition& c : conditions) {
    const int i = c.element();
    if (i < 0 || !given(c.key()) || holds(c)) continue;
    const KeySpec& k = *schema_->find(c.key());
    const YAML::Node value = node(c.key()), d = YAML::Load(k.default_yaml.empty() ? "[]" : k.default_yaml);
    if (!value.IsSequence() || int(value.size()) <= i) continue;  // the key's own check reports it
    if (d.IsSequence() && int(d.size()) > i && same_scalar(k.type, d[i], value[i])) continue;
    name_under(c, c.prefix);
  }
  std::vector<std::string> out;
  for (const auto& [c, keys] : unread) {
    std::string names, has_now;
    for (size_t i = 0; i < keys.size(); ++i) names += cat(i ? ", " : "", keys[i]);
    for (const KeyValues& kv : c->any_of)
      for (const std::string& k : kv.below.empty() ? std::vector<std::string>{kv.key} : std::vector{kv.key, kv.below}) {
        const std::string v = condition_value(k);
        has_now += cat(has_now.empty() ? "" : ", ", k, ": ", v.empty() ? "(none)" : v);
      }
    out.push_back(cat(names, keys.size() == 1 ? " is" : " are", " read only with ", c->text(), ", and the deck has ",
                      has_now, ": ", keys.size() == 1 ? "it has" : "they have", " no effect",
                      c->why.empty() ? "" : cat(" (", c->why, ")")));
  }
  return out;
}

std::string Deck::read_yaml(size_t* idle, const std::vector<std::string>& also_idle) const {
  // A clone of the resolved tree without the idle keys, and without the sections left empty.
  size_t dropped = 0;
  const std::function<void(YAML::Node, const std::string&)> prune = [&](YAML::Node map, const std::string& section) {
    std::vector<std::string> remove;
    for (const auto& kv : map) {
      const std::string name = kv.first.as<std::string>();
      const std::string path = section.empty() ? name : section + "." + name;
      if (schema_->find(path)) {
        if (failing_condition(path) || std::find(also_idle.begin(), also_idle.end(), path) != also_idle.end())
          remove.push_back(name), ++dropped;
      } else if (kv.second.IsMap()) {
        prune(kv.second, path);
        if (kv.second.size() == 0) remove.push_back(name);
      }
    }
    for (const std::string& name : remove) map.remove(name);
  };
  YAML::Node tree = YAML::Clone(*resolved_);
  prune(tree, "");
  if (idle) *idle = dropped;
  YAML::Emitter e;
  e << tree;
  return e.c_str();
}

}  // namespace tessera::io
