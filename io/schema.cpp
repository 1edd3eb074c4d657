#include "io/schema.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "io/yaml_scalars.hpp"

namespace tessera::io {
namespace {

std::string type_name(KeyType t) {
  switch (t) {
    case KeyType::Bool:
      return "bool";
    case KeyType::Int:
      return "integer";
    case KeyType::Float:
      return "number";
    case KeyType::String:
      return "string";
    case KeyType::Choice:
      return "choice";
    case KeyType::FloatList:
      return "list of numbers";
    case KeyType::IntList:
      return "list of integers";
    case KeyType::StringList:
      return "list of strings";
  }
  return "?";
}

std::string num(double x) { return cat(x); }

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s;
}

}  // namespace

std::string ReadCondition::text() const {
  std::string s;
  for (size_t i = 0; i < any_of.size(); ++i) {
    const KeyValues& kv = any_of[i];
    s += cat(i ? " or " : "", kv.key);
    if (!kv.below.empty())
      s += cat(" below ", kv.below);
    else if (kv.values == std::vector<std::string>{""})
      s += kv.other_than ? " set" : " unset";
    else if (kv.values == std::vector<std::string>{"[]"})  // a list key
      s += kv.other_than ? " not empty" : " empty";
    else if (kv.other_than)  // "x other than 1 and 2": a comma list would read into a following " or"
      for (size_t j = 0; j < kv.values.size(); ++j) s += cat(j == 0 ? " other than " : " and ", kv.values[j]);
    else
      s += cat(": ", join_names(kv.values));
  }
  return s;
}

bool ReadCondition::covers(const std::string& path) const {
  return path == prefix ||
         (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 && path[prefix.size()] == '.');
}

std::string ReadCondition::key() const { return element() < 0 ? prefix : prefix.substr(0, prefix.rfind('[')); }

int ReadCondition::element() const {
  const size_t open = prefix.rfind('[');
  if (open == std::string::npos || prefix.back() != ']' || open + 2 >= prefix.size()) return -1;
  const std::string digits = prefix.substr(open + 1, prefix.size() - open - 2);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) || digits.size() > 6)
    return -1;
  return std::stoi(digits);
}

std::string KeySpec::expected() const {
  std::string range;
  if (std::isfinite(min)) range += cat(min_exclusive ? " > " : " >= ", num(min));
  if (std::isfinite(max)) range += cat(range.empty() ? " " : " and ", max_exclusive ? "< " : "<= ", num(max));
  switch (type) {
    case KeyType::Bool:
      return "true or false";
    case KeyType::Int:
      return "an integer" + range;
    case KeyType::Float:
      return "a number" + range;
    case KeyType::String:
      return "a non-empty string";
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

namespace {

// A key's path: dotted words of letters, digits and '_' ("graph_mlp.hidden"); an empty word or a
// space made keys that no deck could set and a resolved deck with a key "".
bool valid_key_path(const std::string& path) {
  if (path.empty() || path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos) return false;
  return std::all_of(path.begin(), path.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; });
}

// What a family may not change about a key that other families share (its type, default and doc
// are compared when it is added).
bool same_limits(const KeySpec& a, const KeySpec& b) {
  return a.required == b.required && a.min == b.min && a.max == b.max && a.min_exclusive == b.min_exclusive &&
         a.max_exclusive == b.max_exclusive && a.choices == b.choices && a.list_size == b.list_size &&
         a.input_path == b.input_path;
}

}  // namespace

KeySpec& Schema::add(std::string path, KeyType type, std::string default_yaml, std::string doc) {
  if (!valid_key_path(path))
    throw Error(cat("schema ", app_, ": key '", path, "' is not dotted words of letters, digits and '_'"));
  // A key below another key's path ("a.b.c" beside the key "a.b") could never be set.
  for (const KeySpec& k : keys_)
    if (path.rfind(k.path + ".", 0) == 0 || k.path.rfind(path + ".", 0) == 0)
      throw Error(cat("schema ", app_, ": key ", path, " and key ", k.path, ": one is below the other, a key"));
  if (KeySpec* existing = const_cast<KeySpec*>(find(path))) {
    // Inside a family, a key that other families share is merged into one entry; its type,
    // default and doc must agree (checked when the family scope ends: ranges are set later).
    if (current_family_.empty() || existing->families.empty() || existing->type != type ||
        existing->default_yaml != default_yaml || existing->doc != doc)
      throw Error(cat("schema ", app_, ": key ", path, " defined twice"));
    if (std::find(existing->families.begin(), existing->families.end(), current_family_) == existing->families.end())
      existing->families.push_back(current_family_);
    return *existing;
  }
  KeySpec k;
  k.path = std::move(path);
  k.type = type;
  k.default_yaml = std::move(default_yaml);
  k.doc = std::move(doc);
  if (!current_family_.empty()) k.families = {current_family_};
  keys_.push_back(std::move(k));
  return keys_.back();
}

void Schema::set_selector(const std::string& path) {
  const KeySpec* k = find(path);
  if (!k || k->type != KeyType::Choice) throw Error(cat("schema ", app_, ": selector ", path, " is not a choice key"));
  selector_ = path;
}

void Schema::family(const std::string& name, const std::function<void(Schema&)>& add_keys) {
  if (selector_.empty()) throw Error(cat("schema ", app_, ": family ", name, " added before the selector key"));
  const auto& choices = find(selector_)->choices;
  if (std::find(choices.begin(), choices.end(), name) == choices.end())
    throw Error(cat("schema ", app_, ": family ", name, " is not a choice of ", selector_));
  current_family_ = name;
  // The shared keys as they were: a family that declares one again may not change its limits
  // (it changed them for every family: train.lr's minimum set by one refused another's value).
  const std::vector<KeySpec> before = keys_;
  try {
    add_keys(*this);
  } catch (...) {
    current_family_.clear();
    throw;
  }
  current_family_.clear();
  for (const KeySpec& was : before)
    if (const KeySpec* now = find(was.path); now && !same_limits(was, *now))
      throw Error(cat("schema ", app_, ": family ", name, " declares key ", was.path,
                      " with other limits than the families that share it (", now->expected(), " against ",
                      was.expected(), ")"));
}

bool Schema::applies(const KeySpec& k, const std::string& family) const {
  return k.families.empty() || selector_.empty() ||
         std::find(k.families.begin(), k.families.end(), family) != k.families.end();
}

void Schema::read_only_when(const std::string& prefix, std::vector<KeyValues> any_of, std::string why) {
  ReadCondition c{prefix, std::move(any_of), std::move(why)};
  // Mistakes in a schema are the program's: found by every run of the app (and by --deck-reference).
  if (c.element() >= 0) {
    const KeySpec* list = find(c.key());
    if (!list || !(list->type == KeyType::IntList || list->type == KeyType::FloatList) ||
        list->list_size <= c.element())
      throw Error(cat("schema ", app_, ": read_only_when ", prefix, ": not an element of a list key of fixed size"));
  } else if (std::none_of(keys_.begin(), keys_.end(), [&](const KeySpec& k) { return c.covers(k.path); })) {
    throw Error(cat("schema ", app_, ": read_only_when: no key at or below ", prefix));
  }
  if (c.any_of.empty()) throw Error(cat("schema ", app_, ": read_only_when ", prefix, ": no condition"));
  const auto number_key = [&](const std::string& path) {
    const KeySpec* k = find(path);
    return k && is_number(k->type);
  };
  for (const KeyValues& kv : c.any_of) {
    const KeySpec* k = find(kv.key);
    const bool number = number_key(kv.key);
    if (!kv.below.empty()) {
      if (!number || !number_key(kv.below) || !kv.values.empty() || c.covers(kv.key) || c.covers(kv.below))
        throw Error(cat("schema ", app_, ": read_only_when ", prefix, ": ", kv.key, " below ", kv.below,
                        " does not compare two number keys outside it"));
      continue;
    }
    // A list key compares with "[]" alone: read when it is empty (or, with not_one_of, when not).
    if (k && is_list(k->type) && kv.values == std::vector<std::string>{"[]"} && !c.covers(kv.key)) continue;
    if (!k || !(number || k->type == KeyType::Choice || k->type == KeyType::String || k->type == KeyType::Bool) ||
        kv.values.empty() || c.covers(kv.key) || kv.key == c.key())
      throw Error(cat("schema ", app_, ": read_only_when ", prefix, ": ", kv.key,
                      " is not a choice, string, bool or number key outside it (or a list key compared with [])"));
    for (const std::string& v : kv.values) {
      const bool fits = k->type == KeyType::Choice
                            ? std::find(k->choices.begin(), k->choices.end(), v) != k->choices.end()
                        : k->type == KeyType::Bool ? v == "true" || v == "false"
                        : number                   ? detail::parse_number(v).has_value()
                                                   : true;
      if (!fits)
        throw Error(cat("schema ", app_, ": read_only_when ", prefix, ": '", v, "' is not a value of ", kv.key));
    }
  }
  // Families that share keys (Schema::family) declare their conditions once each: one is kept.
  for (const ReadCondition& e : read_conditions_)
    if (e.prefix == c.prefix && e.text() == c.text() && e.why == c.why) return;
  read_conditions_.push_back(std::move(c));
}

KeySpec& Schema::input_path(KeySpec& k) {
  if (k.type != KeyType::String) throw Error(cat("schema: ", k.path, " is an input path, so a string key"));
  k.input_path = true;
  return k;
}

std::string KeySpec::help() const {
  return input_path ? doc + " (a path: relative to the deck's folder; given by --set, to the working directory)" : doc;
}

KeySpec& Schema::required(std::string path, KeyType type, std::string doc) {
  KeySpec& k = add(std::move(path), type, "", std::move(doc));
  k.required = true;
  return k;
}

void Schema::section(std::string path, std::string doc) {
  // Families sharing a section document it once.
  for (const auto& [p, d] : sections_)
    if (p == path) return;
  sections_.emplace_back(std::move(path), std::move(doc));
}

const KeySpec* Schema::find(const std::string& path) const {
  for (const auto& k : keys_)
    if (k.path == path) return &k;
  return nullptr;
}

bool Schema::is_section(const std::string& path, const std::string& family) const {
  const std::string pre = path.empty() ? "" : path + ".";
  for (const auto& k : keys_)
    if (k.path.compare(0, pre.size(), pre) == 0 && k.path.size() > pre.size() && (family.empty() || applies(k, family)))
      return true;
  return false;
}

std::vector<std::string> Schema::children(const std::string& section, const std::string& family) const {
  const std::string pre = section.empty() ? "" : section + ".";
  std::vector<std::string> out;
  for (const auto& k : keys_) {
    if (k.path.compare(0, pre.size(), pre) != 0 || (!family.empty() && !applies(k, family))) continue;
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
       << (k.required               ? std::string("required")
           : k.default_yaml.empty() ? std::string("optional")
                                    : "default " + k.default_yaml)
       << ")\n      " << k.help() << "\n      expected: " << k.expected() << "\n";
    if (!k.families.empty()) os << "      only with " << selector_ << ": " << join_names(k.families) << "\n";
    if (const std::string when = read_when(k.path); !when.empty()) os << "      read only with " << when << "\n";
    for (const ReadCondition& c : read_conditions_)
      if (c.element() >= 0 && c.key() == k.path)
        os << "      element " << c.element() << " read only with " << c.text() << "\n";
  }
  return os.str();
}

std::string Schema::read_when(const std::string& path) const {
  // Every condition must hold: joined by "and", a condition with "or" or "and" of its own in
  // brackets (two lines, or a ";", read either way).
  std::vector<std::string> all;
  for (const ReadCondition& c : read_conditions_)
    if (c.covers(path)) all.push_back(c.text());
  std::string out;
  for (const std::string& t : all)
    out += cat(out.empty() ? "" : " and ",
               all.size() > 1 && (t.find(" or ") != std::string::npos || t.find(" and ") != std::string::npos)
                   ? "(" + t + ")"
                   : t);
  return out;
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
    std::string elements;
    for (const ReadCondition& c : read_conditions_)
      if (c.element() >= 0 && c.key() == k.path)
        elements += cat(" (element ", c.element(), " read only with ", c.text(), ")");
    const std::string read_when = this->read_when(k.path);
    // A '|' in the text (|u|, ||r_x||) would end the table cell: escaped, as GitHub's tables read it.
    std::string meaning;
    for (char c : k.help() + (read_when.empty() ? std::string() : " (read only with " + read_when + ")") + elements)
      meaning += c == '|' ? std::string("\\|") : std::string(1, c);
    os << "| `" << k.path << "` | " << type_name(k.type) << " | " << def << " | " << exp << " | " << meaning
       << (k.families.empty() ? std::string() : " *(" + join_names(k.families) + ")*") << " |\n";
  }
  return os.str();
}

}  // namespace tessera::io
