// Schema: the keys a deck may hold, with type, default, range and documentation. One schema per
// app; it drives validation (io/deck.hpp), `--help` and docs/decks.md.
#pragma once
#include <limits>
#include <string>
#include <vector>

namespace tessera::io {

enum class KeyType { Bool, Int, Float, String, Choice, FloatList, IntList, StringList };

struct KeySpec {
  std::string path;                 // dotted: "mesh.cylinder.radius"
  KeyType type = KeyType::Float;
  std::string default_yaml;         // default as YAML text; empty: no default
  bool required = false;            // must be given (no default)
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  std::vector<std::string> choices; // for Choice
  int list_size = -1;               // for lists: exact length, -1 any (non-empty)
  std::string doc;

  std::string expected() const;     // e.g. "a number > 0", "one of: cylinder, geo, msh"
};

class Schema {
public:
  explicit Schema(std::string app) : app_(std::move(app)) {}
  const std::string& app() const { return app_; }

  // Builders; each returns the spec for further tweaks (ranges, list sizes).
  KeySpec& add(std::string path, KeyType type, std::string default_yaml, std::string doc);
  KeySpec& required(std::string path, KeyType type, std::string doc);
  // Documents a section (a map of keys) for help output.
  void section(std::string path, std::string doc);

  const std::vector<KeySpec>& keys() const { return keys_; }
  const KeySpec* find(const std::string& path) const;
  bool is_section(const std::string& path) const;     // some key lies below `path`
  std::vector<std::string> children(const std::string& section) const;  // direct child names

  std::string help_text() const;  // plain text listing of every key
  std::string markdown() const;   // the app's part of docs/decks.md

private:
  std::string app_;
  std::vector<KeySpec> keys_;
  std::vector<std::pair<std::string, std::string>> sections_;
};

}  // namespace tessera::io
