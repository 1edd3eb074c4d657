// Schema: the keys a deck may hold, with type, default, range and documentation. One schema per
// app; it drives validation (io/deck.hpp), `--help` and docs/decks.md.
//
// Family keys: an app that serves several model families names a selector key (a Choice, e.g.
// `model.family`); keys added inside `family(name, ...)` belong to that family alone. A deck then
// may hold, and gets defaults for, only the keys of the family it selects; --help and the
// Markdown reference list every family's keys, marked with their families.
#pragma once
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace tessera::io {

enum class KeyType { Bool, Int, Float, String, Choice, FloatList, IntList, StringList };
inline bool is_number(KeyType t) { return t == KeyType::Int || t == KeyType::Float; }  // a scalar number
inline bool is_list(KeyType t) { return t == KeyType::FloatList || t == KeyType::IntList || t == KeyType::StringList; }

struct KeySpec {
  std::string path;  // dotted: "mesh.cylinder.radius"
  KeyType type = KeyType::Float;
  std::string default_yaml;  // default as YAML text; empty: no default
  bool required = false;     // must be given (no default)
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  bool max_exclusive = false;
  std::vector<std::string> choices;  // for Choice
  int list_size = -1;                // for lists: exact length, -1 any (non-empty)
  std::string doc;
  // A file or folder that is read (Schema::input_path): in a deck file relative to the deck's
  // folder, so that a deck and its inputs move together; given by --set, relative to the working
  // directory, as every path typed in a shell is.
  bool input_path = false;
  // The model families this key belongs to (Schema::family); empty: every deck has it.
  std::vector<std::string> families;

  std::string expected() const;  // e.g. "a number > 0", "one of: cylinder, geo, msh"
  std::string help() const;      // doc, and for an input path where it is relative to
};

// When a deck reads a key, or every key of a section (`prefix`): only when one of `any_of` holds,
// each a key of the schema (a choice, string, bool, integer or number) and the values for which it
// is read, or with `other_than` those for which it is not (a seed read only when a count is not 0).
// Numbers compare as numbers (0 and 0.0 alike); "" is a string key left unset. A deck that sets
// such a key otherwise gets a warning (Deck::unread_given_keys): it has no effect, and whoever set
// it expected one.
struct KeyValues {
  KeyValues(std::string key, std::vector<std::string> values, bool other_than = false, std::string below = "")
      : key(std::move(key)), values(std::move(values)), other_than(other_than), below(std::move(below)) {}
  std::string key;
  std::vector<std::string> values;
  bool other_than = false;
  std::string below;  // instead of values: read when `key` is less than this other number key
};
// {key, values} read when `key` is none of `values`.
inline KeyValues not_one_of(std::string key, std::vector<std::string> values) {
  return {std::move(key), std::move(values), true, ""};
}
// Read when number key `key` is less than number key `other` (Adam steps below the total steps).
inline KeyValues below(std::string key, std::string other) { return {std::move(key), {}, false, std::move(other)}; }
struct ReadCondition {
  std::string prefix;
  std::vector<KeyValues> any_of;
  std::string why;  // optional: what happens instead, appended to the warning in parentheses
  // "time.mode: transient", "job: dataset or time.mode: transient", "augment.random_jumps.fraction
  // other than 0", "train.resume unset", "pinn.adam.steps below train.steps"
  std::string text() const;
  bool covers(const std::string& path) const;  // path is prefix or below it
  // A condition on one element of a list key: prefix "pinn.loss.weights[0]" has key()
  // "pinn.loss.weights" and element() 0; it covers no whole key. Otherwise element() is -1.
  std::string key() const;
  int element() const;
};

class Schema {
 public:
  explicit Schema(std::string app) : app_(std::move(app)) {}
  const std::string& app() const { return app_; }

  // Builders; each returns the spec for further tweaks (ranges, list sizes).
  KeySpec& add(std::string path, KeyType type, std::string default_yaml, std::string doc);
  KeySpec& required(std::string path, KeyType type, std::string doc);
  // Marks a declared key as an input path (KeySpec::input_path) and returns it.
  static KeySpec& input_path(KeySpec& k);
  // Documents a section (a map of keys) for help output.
  void section(std::string path, std::string doc);

  // The Choice key whose value selects a family (added beforehand with its choices).
  void set_selector(const std::string& path);
  const std::string& selector() const { return selector_; }
  // Runs `add_keys` with every key it adds tagged as belonging to family `name`. A key that an
  // earlier family defined identically (type, default, range, doc) is shared, not duplicated.
  void family(const std::string& name, const std::function<void(Schema&)>& add_keys);
  // Whether a deck selecting `family` has key `k` (always true without a selector).
  bool applies(const KeySpec& k, const std::string& family) const;

  // Keys at or below `prefix` are read only when one of `any_of` holds (ReadCondition). Called
  // after the keys it names are added. A key may have several conditions: it is read when all hold.
  // A condition declared again (families sharing keys) is kept once.
  void read_only_when(const std::string& prefix, std::vector<KeyValues> any_of, std::string why = "");
  const std::vector<ReadCondition>& read_conditions() const { return read_conditions_; }

  const std::vector<KeySpec>& keys() const { return keys_; }
  const KeySpec* find(const std::string& path) const;
  // Some key lies below `path` (of `family` when given: keys of other families do not count).
  bool is_section(const std::string& path, const std::string& family = "") const;
  // Direct child names of a section (of `family` when given).
  std::vector<std::string> children(const std::string& section, const std::string& family = "") const;

  std::string help_text() const;  // plain text listing of every key
  std::string markdown() const;   // the app's part of docs/decks.md
  // The conditions under which `path` is read (read_only_when), all of which must hold, as text
  // ("job: case and mesh.source: geo, msh"); empty when it is always read.
  std::string read_when(const std::string& path) const;

 private:
  std::string app_;
  std::vector<KeySpec> keys_;
  std::vector<std::pair<std::string, std::string>> sections_;
  std::vector<ReadCondition> read_conditions_;
  std::string selector_;
  std::string current_family_;  // inside family(): the family that new keys belong to
};

}  // namespace tessera::io
