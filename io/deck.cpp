#include "io/deck.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "io/yaml_scalars.hpp"

namespace tessera::io {
namespace {

using detail::as_bool;
using detail::as_float;
using detail::as_int;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  return parts;
}

// Whether some line starts its indentation with a tab (YAML forbids tabs there).
bool tab_indented(const std::string& text) {
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    const size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos && line[first] == '\t') return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& parts, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? "." : "") + parts[i];
  return s;
}

std::string show(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "nothing";
}

// Const lookup of a dotted path (const access never inserts into the tree).
YAML::Node lookup(const YAML::Node& root, const std::string& path) {
  YAML::Node cur = root;
  for (const auto& p : split_path(path)) {
    if (!cur.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& c = cur;
    YAML::Node next = c[p];
    // A missing key yields an "invalid" node whose type queries throw; return a plain undefined one.
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    cur.reset(next);
  }
  return cur;
}

// Sets `value` at the dotted path `parts` under `root`, creating missing (or null) sections.
// Returns the depth of a prefix that holds a non-section value (then nothing is set), else 0.
// yaml-cpp nodes are handles (assignment between bound nodes aliases them), so this descends by
// copy-constructing each level into a vector and only assigns the leaf.
size_t set_path(const YAML::Node& root, const std::vector<std::string>& parts, const YAML::Node& value) {
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const YAML::Node existing = lookup(chain.back(), parts[i]);
    if (!existing.IsMap()) {
      if (existing.IsDefined() && !existing.IsNull()) return i + 1;
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
    }
    chain.push_back(chain.back()[parts[i]]);
  }
  chain.back()[parts.back()] = value;
  return 0;
}

// Removes the key at the dotted path (its parent sections stay).
void remove_path(const YAML::Node& root, const std::vector<std::string>& parts) {
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const YAML::Node next = lookup(chain.back(), parts[i]);
    if (!next.IsMap()) return;
    chain.push_back(chain.back()[parts[i]]);
  }
  chain.back().remove(parts.back());
}

bool in_range(const KeySpec& k, double x) {
  if (k.min_exclusive ? !(x > k.min) : !(x >= k.min)) return false;
  return k.max_exclusive ? x < k.max : x <= k.max;
}

// Checks one value against its spec; returns an empty string when valid.
std::string check_value(const KeySpec& k, const YAML::Node& n) {
  auto scalar_ok = [&](const YAML::Node& v, KeyType t) -> bool {
    bool b;
    int64_t i;
    double d;
    switch (t) {
      case KeyType::Bool:
        return as_bool(v, b);
      case KeyType::Int:
        return as_int(v, i) && in_range(k, double(i));
      case KeyType::Float:
        return as_float(v, d) && in_range(k, d);
      case KeyType::String:
        return v.IsScalar() && !v.Scalar().empty();
      case KeyType::Choice:
        return v.IsScalar() && std::find(k.choices.begin(), k.choices.end(), v.Scalar()) != k.choices.end();
      default:
        return false;
    }
  };
  bool ok = false;
  switch (k.type) {
    case KeyType::FloatList:
    case KeyType::IntList:
    case KeyType::StringList: {
      KeyType elem = k.type == KeyType::FloatList ? KeyType::Float
                     : k.type == KeyType::IntList ? KeyType::Int
                                                  : KeyType::String;
      if (n.IsNull() && k.list_size < 0) return "";  // "key:" with nothing is an empty list
      // A bare value where a list is expected (--set pinn.sweep.values=5, or 0,20): say how to
      // write it, in brackets.
      if (n.IsScalar())
        return cat("expected ", k.expected(), ", got ", show(n), " (a list is written in brackets: ",
                   k.list_size < 0 || k.list_size == 1 || n.Scalar().find(',') != std::string::npos
                       ? cat("[", n.Scalar(), "]")
                       : std::string("[a, b, ...]"),
                   ")");
      if (!n.IsSequence()) break;
      // What is wrong with the list: its length, or its first element that is not one.
      if (k.list_size >= 0 && static_cast<int>(n.size()) != k.list_size)
        return cat("expected ", k.expected(), ", got a list of ", n.size());
      for (size_t i = 0; i < n.size(); ++i)
        if (!scalar_ok(n[i], elem)) return cat("expected ", k.expected(), ", got ", show(n[i]), " as item ", i + 1);
      ok = true;
      break;
    }
    default:
      ok = scalar_ok(n, k.type);
  }
  return ok ? "" : cat("expected ", k.expected(), ", got ", show(n));
}

// "valid keys under '<section>': a, b, c" (the deck's top level without a section), for an unknown
// key in the deck file or in a --set.
std::string valid_keys(const Schema& schema, const std::string& section, const std::string& family) {
  std::string valid;
  for (const auto& c : schema.children(section, family)) valid += (valid.empty() ? "" : ", ") + c;
  return cat("valid keys", section.empty() ? "" : " under '" + section + "'", ": ", valid);
}

}  // namespace

Deck::Deck() : resolved_(std::make_unique<YAML::Node>(YAML::NodeType::Map)), raw_(std::make_unique<YAML::Node>()) {}
Deck::Deck(const Deck& o)
    : source_(o.source_),
      base_dir_(o.base_dir_),
      schema_(o.schema_),
      resolved_(std::make_unique<YAML::Node>(YAML::Clone(*o.resolved_))),
      raw_(std::make_unique<YAML::Node>(YAML::Clone(*o.raw_))),
      overridden_(o.overridden_) {}
Deck& Deck::operator=(const Deck& o) {
  if (this != &o) {
    Deck c(o);
    std::swap(source_, c.source_);
    std::swap(base_dir_, c.base_dir_);
    std::swap(schema_, c.schema_);
    std::swap(resolved_, c.resolved_);
    std::swap(raw_, c.raw_);
    std::swap(overridden_, c.overridden_);
  }
  return *this;
}
Deck::Deck(Deck&&) noexcept = default;
Deck& Deck::operator=(Deck&&) noexcept = default;
Deck::~Deck() = default;

Deck Deck::load(const std::string& path, const Schema& schema, const std::vector<std::string>& overrides) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw Error(cat(shown(path), ": cannot open the deck file: ", ec.message()));
  if (!std::filesystem::exists(status)) throw Error(cat(shown(path), ": deck file not found"));
  if (std::filesystem::is_directory(status))
    throw Error(cat(shown(path), ": is a directory; expected a YAML deck file"));
  std::ifstream in(path);
  if (!in) throw Error(cat(shown(path), ": cannot read the deck file: ", std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  ParseOptions options;
  options.refuse_empty = true;
  return parse(ss.str(), path, schema, overrides, options);
}

Deck Deck::parse(const std::string& text, const std::string& name, const Schema& schema,
                 const std::vector<std::string>& overrides, const ParseOptions& options) {
  Deck d;
  d.source_ = name;
  d.base_dir_ = options.base_dir;
  d.schema_ = &schema;
  try {
    // One deck is one YAML document: a second one (after "---") would otherwise be dropped unread.
    const std::vector<YAML::Node> documents = YAML::LoadAll(text);
    for (size_t i = 1; i < documents.size(); ++i)
      if (!documents[i].IsNull()) {
        const YAML::Mark mark = documents[i].Mark();
        throw Error(cat(name, mark.is_null() ? std::string() : cat(":", mark.line + 1), ": the deck holds ",
                        documents.size(), " YAML documents (separated by ---); put all its keys in one"));
      }
    *d.raw_ = documents.empty() ? YAML::Node() : documents[0];
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for it is "bad file".
    throw Error(cat(name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": invalid YAML: nested ", e.depth(),
                    " levels deep, past yaml-cpp's limit (a deck nests a few levels)"));
  } catch (const YAML::ParserException& e) {
    throw Error(cat(name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": invalid YAML: ", e.msg,
                    tab_indented(text) ? " (the deck indents with tabs; YAML allows spaces only)" : ""));
  }
  YAML::Node& raw = *d.raw_;
  if (raw.IsNull() && options.refuse_empty)
    throw Error(cat(name, ": the deck is empty (no keys); give the keys to set, or write {} to run on every default"));
  if (raw.IsNull()) raw = YAML::Node(YAML::NodeType::Map);
  if (!raw.IsMap()) throw Error(cat(name, ":1: the deck must be a YAML map of keys, got ", show(raw)));

  for (const std::string& ov : overrides) {
    auto eq = ov.find('=');
    if (eq == std::string::npos || eq == 0) throw Error(cat("--set ", ov, ": expected key.path=value"));
    const std::string path = ov.substr(0, eq);
    YAML::Node value;
    try {
      value = YAML::Load(ov.substr(eq + 1));
    } catch (const YAML::DeepRecursion& e) {
      throw Error(cat("--set ", shown(ov, 60), ": invalid YAML value: nested ", e.depth(),
                      " levels deep, past yaml-cpp's limit (a value is a scalar or a short list)"));
    } catch (const YAML::ParserException& e) {
      throw Error(cat("--set ", shown(ov, 60), ": invalid YAML value: ", e.msg));
    }
    if (!schema.find(path)) {
      if (schema.is_section(path))
        throw Error(cat("--set ", shown(ov), ": '", path,
                        "' is a section, not a key; set its keys one by one, e.g. --set ", path, ".",
                        schema.children(path).front(), "=..."));
      // The valid keys beside it, as for a key in the deck file (--help lists hundreds).
      const size_t dot = path.rfind('.');
      const std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
      if (section.empty() || schema.is_section(section))  // the family is not known yet: all families' keys
        throw Error(cat("--set ", shown(ov), ": unknown key '", path, "' (", valid_keys(schema, section, ""), ")"));
      throw Error(cat("--set ", shown(ov), ": unknown key '", path, "' (see --help for the deck keys)"));
    }
    // A path typed on the command line is the shell's: relative to the working directory, made
    // absolute here (a deck file's paths stay relative to the deck's folder; resolve_path).
    if (schema.find(path)->input_path && value.IsScalar() && !value.Scalar().empty() &&
        std::filesystem::path(value.Scalar()).is_relative())
      value = YAML::Node(std::filesystem::absolute(value.Scalar()).lexically_normal().string());
    auto parts = split_path(path);
    if (size_t bad = set_path(raw, parts, value))
      throw Error(cat("--set ", ov, ": '", join(parts, bad), "' is not a section in ", name));
    d.overridden_.insert(path);
  }

  // The family the deck selects (the selector's value, else its default): keys of other
  // families are unknown to this deck.
  std::string family;
  if (!schema.selector().empty()) {
    const KeySpec& sel = *schema.find(schema.selector());
    const YAML::Node given = lookup(raw, sel.path);
    if (given.IsDefined() && !given.IsNull()) {
      if (std::string err = check_value(sel, given); !err.empty()) d.fail(sel.path, err);
      family = given.Scalar();
    } else {
      family = YAML::Load(sel.default_yaml).Scalar();
    }
  }
  auto other_family = [&](const std::string& path) -> const KeySpec* {
    const KeySpec* k = schema.find(path);
    return k && !schema.applies(*k, family) ? k : nullptr;
  };
  // "belongs to model.family: transformer (and others), not 'stagger'", and this family's keys of
  // the same name, where it has some (train.lr given to NeuralStagger, whose rate is stagger.lr).
  auto not_this_family = [&](const std::string& path, const KeySpec& k) {
    const std::string name = path.substr(path.rfind('.') + 1);
    std::string here;
    for (const KeySpec& mine : schema.keys())
      if (schema.applies(mine, family) && mine.path != path && mine.path.size() > name.size() &&
          mine.path.compare(mine.path.size() - name.size() - 1, std::string::npos, "." + name) == 0)
        here += cat(here.empty() ? "" : ", ", mine.path);
    return cat("belongs to ", schema.selector(), ": ", k.families.front(), k.families.size() > 1 ? " (and others)" : "",
               ", not '", family, "'", here.empty() ? "" : cat(" (", family, "'s: ", here, ")"));
  };
  // Stored decks of older checkpoints may hold keys of other families: drop them.
  if (options.drop_other_families && !family.empty())
    for (const KeySpec& k : schema.keys())
      if (!schema.applies(k, family) && lookup(raw, k.path).IsDefined()) remove_path(raw, split_path(k.path));

  // Walk the user's tree: every key must be a known key or section.
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& map,
                                                                        const std::string& section) {
    std::map<std::string, int> first_line;  // YAML parsers keep one of duplicate keys: reject them
    for (auto it = map.begin(); it != map.end(); ++it) {
      const int line = it->first.Mark().line + 1;
      // YAML allows maps, lists and null as keys; as<std::string>() would throw yaml-cpp's own
      // exception on them (found by fuzz_deck, tests/data/bad/fuzz/deck/map_as_key.yaml).
      if (!it->first.IsScalar())
        throw Error(cat(name, ":", line, ":", section.empty() ? "" : " under '" + section + "':",
                        " expected a key name, got ", show(it->first)));
      const std::string key = it->first.as<std::string>();
      // An empty key (a YAML tag alone, found by fuzz_deck: tests/data/bad/fuzz/deck/empty_key.yaml)
      // or one with a dot would make a path that names another key or none.
      if (key.empty() || key.find('.') != std::string::npos)
        throw Error(cat(
            name, ":", line, ":", section.empty() ? "" : " under '" + section + "':", " expected a key name, got '",
            shown(key, 60), "'", key.empty() ? "" : " (write nested keys as sections: 'a:' and below it '  b: ...')"));
      const std::string path = section.empty() ? key : section + "." + key;
      if (auto [pos, fresh] = first_line.emplace(key, line); !fresh)
        throw Error(cat(name, ":", line, ": key '", path, "' is given twice (first at line ", pos->second, ")"));
      if (const KeySpec* k = other_family(path)) {
        d.fail(path, not_this_family(path, *k));
      } else if (const KeySpec* k = schema.find(path)) {
        if (std::string err = check_value(*k, it->second); !err.empty()) d.fail(path, err);
      } else if (schema.is_section(path, family)) {
        if (it->second.IsNull()) continue;
        if (!it->second.IsMap()) d.fail(path, cat("expected a section (a map of keys), got ", show(it->second)));
        walk(it->second, path);
      } else {
        // A section of another family that only --set made (--set pinn.nu=0.1 on a NeuralStagger
        // deck): the override is named, as a key of another family in the deck file is (it read
        // "<deck>:0: unknown key 'pinn'").
        // (An override is a schema key, checked when it was set: below a section this family lacks,
        // it is another family's.)
        for (const std::string& o : d.overridden_)
          if (const KeySpec* k = o.rfind(path + ".", 0) == 0 ? other_family(o) : nullptr)
            d.fail(o, not_this_family(o, *k));
        throw Error(cat(name, ":", it->first.Mark().line + 1, ": unknown key '", path, "' (",
                        valid_keys(schema, section, family), ")"));
      }
    }
  };
  walk(raw, "");

  // Resolve: the given value or the default, for every key.
  for (const KeySpec& k : schema.keys()) {
    if (!schema.applies(k, family)) continue;
    const YAML::Node given = lookup(raw, k.path);
    YAML::Node v;
    if (given.IsDefined() && (!given.IsNull() || is_list(k.type))) {
      v.reset(given.IsNull() ? YAML::Node(YAML::NodeType::Sequence) : YAML::Clone(given));
    } else {
      if (k.required) throw Error(cat(name, ": missing required key '", k.path, "' (", k.expected(), ")"));
      if (k.default_yaml.empty()) continue;
      v.reset(YAML::Load(k.default_yaml));
    }
    set_path(*d.resolved_, split_path(k.path), v);  // built from the schema: no conflicts
  }
  return d;
}

const YAML::Node Deck::node(const std::string& path) const { return lookup(*resolved_, path); }

std::string Deck::where(const std::string& path) const {
  if (overridden_.count(path)) return cat("--set ", path);
  // The line of the key itself in the raw tree (a section's values start on a later line).
  auto parts = split_path(path);
  if (parts.empty()) return source_;
  const YAML::Node parent = parts.size() == 1 ? *raw_ : lookup(*raw_, join(parts, parts.size() - 1));
  // A section's error may come from a value that --set gave one of its keys: name it too.
  std::string set_below;
  for (const auto& o : overridden_)
    if (o.rfind(path + ".", 0) == 0) set_below += cat(set_below.empty() ? "" : ", ", "--set ", o);
  if (parent.IsMap())
    for (auto it = parent.begin(); it != parent.end(); ++it)
      if (it->first.Scalar() == parts.back() && it->first.Mark().line >= 0)
        return cat(source_, ":", it->first.Mark().line + 1, set_below.empty() ? "" : " (with " + set_below + ")");
  // A section that only --set overrides made has no line in the deck file (was "deck:0"): name
  // the override.
  for (const auto& o : overridden_)
    if (o.rfind(path + ".", 0) == 0) return cat("--set ", o);
  return source_;
}

void Deck::fail(const std::string& path, const std::string& message) const { throw Error(message_at(path, message)); }

void Deck::fail_pair(const std::string& first, const std::string& second, const std::string& message) const {
  fail(overridden_.count(second) && !overridden_.count(first) ? second : first, message);
}

std::string Deck::message_at(const std::string& path, const std::string& message) const {
  // Library errors keyed to a setting often name it already ("dataset.ranges.radius: expected
  // ..."): the key is said once.
  // "--set <path>" names it as well.
  const std::string named = path + ": ", at = where(path);
  const std::string bare = message.rfind(named, 0) == 0 ? message.substr(named.size()) : message;
  return cat(at, ": ", at == "--set " + path ? bare : named + bare);
}

bool Deck::given(const std::string& path) const {
  return overridden_.count(path) > 0 || lookup(*raw_, path).IsDefined();
}

bool Deck::has(const std::string& path) const { return node(path).IsDefined(); }

std::vector<std::string> Deck::raised_integer_keys(size_t n) const {
  std::vector<std::pair<double, std::string>> raised;  // (value / default, text)
  for (const KeySpec& k : schema_->keys()) {
    if (k.type != KeyType::Int || k.default_yaml.empty() || !given(k.path) || !has(k.path)) continue;
    double fallback = 0;
    if (!YAML::convert<double>::decode(YAML::Load(k.default_yaml), fallback) || !(fallback > 0)) continue;
    const int64_t value = get_int(k.path);
    if (static_cast<double>(value) > fallback)
      raised.emplace_back(static_cast<double>(value) / fallback,
                          cat(k.path, " = ", value, " (default ", k.default_yaml, ")"));
  }
  std::stable_sort(raised.begin(), raised.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < raised.size() && i < n; ++i) out.push_back(raised[i].second);
  return out;
}

namespace {
template <class T, class Conv>
T get_checked(const Deck& d, const YAML::Node& n, const std::string& path, Conv conv) {
  T out{};
  if (!n.IsDefined()) d.fail(path, "is not set");
  if (!conv(n, out)) d.fail(path, "has the wrong type");
  return out;
}
}  // namespace

bool Deck::get_bool(const std::string& p) const { return get_checked<bool>(*this, node(p), p, as_bool); }
int64_t Deck::get_int(const std::string& p) const { return get_checked<int64_t>(*this, node(p), p, as_int); }
int Deck::get_int32(const std::string& p) const {
  const int64_t v = get_int(p);
  if (v > std::numeric_limits<int>::max() || v < std::numeric_limits<int>::min())
    fail(p, cat(v, " is beyond the range of this count (at most ", std::numeric_limits<int>::max(), ")"));
  return static_cast<int>(v);
}
double Deck::get_float(const std::string& p) const { return get_checked<double>(*this, node(p), p, as_float); }
std::string Deck::get_string(const std::string& p) const {
  YAML::Node n = node(p);
  if (!n.IsDefined()) fail(p, "is not set");
  return n.Scalar();
}
std::vector<double> Deck::get_floats(const std::string& p) const {
  std::vector<double> out;
  for (const auto& v : node(p)) out.push_back(get_checked<double>(*this, v, p, as_float));
  return out;
}
std::vector<int64_t> Deck::get_ints(const std::string& p) const {
  std::vector<int64_t> out;
  for (const auto& v : node(p)) out.push_back(get_checked<int64_t>(*this, v, p, as_int));
  return out;
}
std::vector<std::string> Deck::get_strings(const std::string& p) const {
  std::vector<std::string> out;
  for (const auto& v : node(p)) out.push_back(v.Scalar());
  return out;
}

std::string Deck::resolved_yaml() const {
  YAML::Emitter e;
  e << *resolved_;
  return provenance_ + e.c_str();
}

}  // namespace tessera::io
