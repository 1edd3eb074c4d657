// Fuzz target: YAML decks (io/deck.cpp) validated against a schema (io/schema.cpp) that holds
// the mesh app's sections plus one key of every type inside two model families, then read back
// through the typed getters and the mesh/augment option readers the apps use. Leading comment
// lines "#--set a.b=value" become --set overrides, so the override parser is fuzzed too while the
// input stays a valid YAML file.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_input.hpp"
#include "io/deck.hpp"
#include "io/mesh_deck.hpp"
#include "io/schema.hpp"

namespace {

using tessera::io::KeyType;
using tessera::io::Schema;

Schema make_schema() {
  Schema s("fuzz");
  tessera::io::add_mesh_keys(s);
  tessera::io::add_augment_keys(s);
  s.add("model.family", KeyType::Choice, "a", "family selector").choices = {"a", "b"};
  s.set_selector("model.family");
  s.family("a", [](Schema& f) {
    f.add("model.flag", KeyType::Bool, "false", "a bool");
    f.add("model.count", KeyType::Int, "3", "an int").min = 1;
    f.add("model.rate", KeyType::Float, "0.5", "a float").max = 1;
    f.add("model.name", KeyType::String, "x", "a string");
    f.add("model.sizes", KeyType::IntList, "[1, 2]", "ints").list_size = 2;
  });
  s.family("b", [](Schema& f) {
    f.add("model.weights", KeyType::FloatList, "[0.5]", "floats");
    f.add("model.tags", KeyType::StringList, "[p, q]", "strings");
    f.add("model.rate", KeyType::Float, "0.5", "a float").max = 1;  // shared with family a
  });
  return s;
}

// Reads every key through its getter, as an app would.
void read_all(const tessera::io::Deck& deck, const Schema& schema) {
  for (const auto& k : schema.keys()) {
    if (!deck.has(k.path)) continue;
    switch (k.type) {
      case KeyType::Bool:
        deck.get_bool(k.path);
        break;
      case KeyType::Int:
        deck.get_int(k.path);
        break;
      case KeyType::Float:
        deck.get_float(k.path);
        break;
      case KeyType::String:
      case KeyType::Choice:
        deck.get_string(k.path);
        break;
      case KeyType::FloatList:
        deck.get_floats(k.path);
        break;
      case KeyType::IntList:
        deck.get_ints(k.path);
        break;
      case KeyType::StringList:
        deck.get_strings(k.path);
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Schema schema = make_schema();
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  for (size_t pos = 0; text.compare(pos, 7, "#--set ") == 0;) {
    const size_t end = text.find('\n', pos);
    overrides.push_back(text.substr(pos + 7, end == std::string::npos ? std::string::npos : end - pos - 7));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return tessera::fuzz::run_reader([&] {
    tessera::io::Deck deck = tessera::io::Deck::parse(text, "fuzz.yaml", schema, overrides);
    read_all(deck, schema);
    deck.resolved_yaml();
    tessera::io::mesh_options(deck);
    tessera::io::augment_options(deck);
  });
}
