// io: deck validation and overrides, family keys, help/markdown generation.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/deck_difference.hpp"
#include "io/mesh_deck.hpp"
#include "tests/io/deck_schema_fixture.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;
using io::KeyType;
using test::test_schema;

static std::string error_of(const std::string& yaml, const std::vector<std::string>& ov = {}) {
  static const io::Schema s = test_schema();
  try {
    io::Deck::parse(yaml, "deck.yaml", s, ov);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST_CASE("deck: defaults, values, overrides", "[deck]") {
  io::Schema s = test_schema();
  io::Deck d = io::Deck::parse("name: run1\nsolver:\n  steps: 20\nmesh:\n  center: [1.5, 2]\n", "deck.yaml", s);
  CHECK(d.get_string("name") == "run1");
  CHECK(d.get_int("solver.steps") == 20);
  CHECK(d.get_float("solver.dt") == 0.01);
  CHECK(d.get_string("solver.method") == "bdf2");
  CHECK_FALSE(d.get_bool("solver.verbose"));
  CHECK(d.get_floats("mesh.center") == std::vector<double>{1.5, 2});
  CHECK(d.get_strings("mesh.groups") == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(d.has("mesh.file"));
  io::Deck o =
      io::Deck::parse("name: run1\n", "deck.yaml", s, {"solver.dt=0.5", "solver.method=cn", "mesh.file=x.msh"});
  CHECK(o.get_float("solver.dt") == 0.5);
  CHECK(o.get_string("solver.method") == "cn");
  CHECK(o.resolve_path(o.get_string("mesh.file")) == "x.msh");
  // The resolved deck re-parses to the same values.
  io::Deck r = io::Deck::parse(o.resolved_yaml(), "resolved", s);
  CHECK(r.get_float("solver.dt") == 0.5);
  CHECK(r.get_int("solver.steps") == 10);
  CHECK(r.resolved_yaml() == o.resolved_yaml());
  // With its provenance lines (what output files store): they come first, and the text still
  // parses to the same settings.
  o.set_provenance("# tessera 0.1.0 (git abc)\n# run on 2 ranks\n");
  CHECK(o.resolved_yaml().rfind("# tessera 0.1.0 (git abc)\n# run on 2 ranks\n", 0) == 0);
  CHECK(io::Deck::parse(o.resolved_yaml(), "stored", s).get_float("solver.dt") == 0.5);
  CHECK(io::Deck::parse(o.resolved_yaml(), "stored", s).resolved_yaml() == r.resolved_yaml());
}

TEST_CASE("deck differences: every key, ignored values, keys one deck lacks", "[deck]") {
  const auto d = io::first_deck_difference("a: {x: 1, p: f}\n", "a: {x: 2, p: g}\n", {}, {"a.p"}, true);
  REQUIRE(d);
  CHECK((d->key == "a.x" && d->stored == "1" && d->now == "2"));
  CHECK_FALSE(io::first_deck_difference("a: {x: 1, p: f}\n", "a: {x: 1, p: g}\n", {}, {"a.p"}, true));
  // A key given on one side alone differs with absent_differs, ignored or not, either way round.
  const auto only_now = io::first_deck_difference("a: {x: 1}\n", "a: {x: 1, p: g}\n", {}, {"a.p"}, true);
  REQUIRE(only_now);
  CHECK((only_now->key == "a.p" && only_now->stored == "(not set)" && only_now->now == "g"));
  const auto only_stored = io::first_deck_difference("a: {x: 1, p: g}\n", "a: {x: 1}\n", {}, {"a.p"}, true);
  REQUIRE(only_stored);
  CHECK((only_stored->key == "a.p" && only_stored->stored == "g" && only_stored->now == "(not set)"));
  // Without it (a checkpoint's deck, written before a key existed), such keys are not compared.
  CHECK_FALSE(io::first_deck_difference("a: {x: 1}\n", "a: {x: 1, q: 2}\n", {"a"}, {}));
  // One value written two ways is the same setting; another value is not.
  CHECK_FALSE(io::first_deck_difference("a: {x: 1.0e-6, b: True, l: [0.90, 0.95], s: abc}\n",
                                        "a: {x: 1e-6, b: true, l: [0.9, 0.95], s: abc}\n", {}, {}));
  CHECK(io::first_deck_difference("a: {x: 1.0e-6}\n", "a: {x: 1e-5}\n", {}, {})->now == "1e-5");
  CHECK(io::first_deck_difference("a: {b: true}\n", "a: {b: false}\n", {}, {})->key == "a.b");
  CHECK(io::first_deck_difference("a: {l: [1, 2]}\n", "a: {l: [1, 2, 3]}\n", {}, {})->stored == "[1, 2]");
  CHECK(io::first_deck_difference("a: {s: abc}\n", "a: {s: abd}\n", {}, {})->key == "a.s");
  CHECK(io::first_deck_difference("a: {s: '1'}\n", "a: {s: yes}\n", {}, {})->key == "a.s");
}

TEST_CASE("deck: each bad input gives one located error", "[deck]") {
  CHECK(error_of("name: x\nsolver:\n  dt: [1\n") ==
        std::string("deck.yaml:4:1: invalid YAML: end of sequence flow not found"));
  CHECK(error_of("name: x\nsolver:\n  dtt: 1\n") ==
        std::string("deck.yaml:3: unknown key 'solver.dtt' (valid keys under 'solver': dt, steps, method, verbose)"));
  CHECK(error_of("name: x\nsolvr: 1\n") ==
        std::string("deck.yaml:2: unknown key 'solvr' (valid keys: solver, mesh, name)"));
  CHECK(error_of("name: x\nsolver:\n  dt: fast\n") ==
        std::string("deck.yaml:3: solver.dt: expected a number >= 0, got 'fast'"));
  CHECK(error_of("name: x\nsolver:\n  steps: 0\n") ==
        std::string("deck.yaml:3: solver.steps: expected an integer >= 1 and <= 1000, got '0'"));
  CHECK(error_of("name: x\nsolver:\n  steps: 2.5\n") ==
        std::string("deck.yaml:3: solver.steps: expected an integer >= 1 and <= 1000, got '2.5'"));
  CHECK(error_of("name: x\nsolver:\n  method: rk4\n") ==
        std::string("deck.yaml:3: solver.method: expected one of: bdf2, cn, got 'rk4'"));
  CHECK(error_of("name: x\nsolver:\n  verbose: 2\n") ==
        std::string("deck.yaml:3: solver.verbose: expected true or false, got '2'"));
  CHECK(error_of("name: x\nmesh:\n  center: [1]\n") ==
        std::string("deck.yaml:3: mesh.center: expected a list of 2 numbers, got a list of 1"));
  CHECK(error_of("name: x\nmesh:\n  center: [1, a]\n") ==
        std::string("deck.yaml:3: mesh.center: expected a list of 2 numbers, got 'a' as item 2"));
  // A bare value where a list belongs: how to write it (a sweep's one value was refused unexplained).
  CHECK(error_of("name: x\nmesh:\n  center: 1,2\n") ==
        std::string("deck.yaml:3: mesh.center: expected a list of 2 numbers, got '1,2' (a list is written in "
                    "brackets: [1,2])"));
  CHECK(error_of("name: x\nsolver: 3\n") ==
        std::string("deck.yaml:2: solver: expected a section (a map of keys), got '3'"));
  CHECK(error_of("solver: {dt: 1}\n") == std::string("deck.yaml: missing required key 'name' (a non-empty string)"));
  CHECK(error_of("- a\n- b\n") == std::string("deck.yaml:1: the deck must be a YAML map of keys, got a list"));
  // A second document would be dropped unread; a trailing "---" alone is harmless.
  CHECK(error_of("name: x\n---\nname: y\n") ==
        std::string("deck.yaml:3: the deck holds 2 YAML documents (separated by ---); put all its keys in one"));
  CHECK(error_of("name: x\nsolver: 3\n---\n") == std::string("deck.yaml:2: solver: expected a section (a map of "
                                                             "keys), got '3'"));
  CHECK(error_of("name: x\n", {"solver.dt=-1"}) == std::string("--set solver.dt: expected a number >= 0, got '-1'"));
  CHECK(error_of("name: x\n", {"solver.dtx=1"}) ==
        std::string("--set solver.dtx=1: unknown key 'solver.dtx' (valid keys under 'solver': dt, steps, method, "
                    "verbose)"));
  CHECK(error_of("name: x\n", {"solvr.dt=1"}) ==
        std::string("--set solvr.dt=1: unknown key 'solvr.dt' (see --help for the deck keys)"));
  CHECK(error_of("name: x\n", {"solver.dt"}) == std::string("--set solver.dt: expected key.path=value"));
  // yaml-cpp's own message for a value nested past its depth limit is "bad file".
  CHECK(error_of("name: x\n", {"solver.dt=" + std::string(600, '[')}) ==
        std::string("--set solver.dt=" + std::string(20, '[') + "..." + std::string(30, '[') +
                    " (610 characters): invalid YAML value: nested 500 levels deep, past yaml-cpp's limit (a value is "
                    "a scalar or a short list)"));
  CHECK(error_of("name: x\n", {"solver.dt=[1"}) ==
        std::string("--set solver.dt=[1: invalid YAML value: end of sequence flow not found"));
  CHECK(error_of("name: x\nsolver: 3\n", {"solver.dt=1"}) ==
        std::string("--set solver.dt=1: 'solver' is not a section in deck.yaml"));
  CHECK(error_of("name: x\nsolver:\n  dt: '0.1'\n") ==
        std::string("deck.yaml:3: solver.dt: expected a number >= 0, got '0.1'"));
  // Found by fuzz_deck: a YAML tag alone is an empty key (was undefined behaviour in Deck::where);
  // a dotted key would have matched solver.dt's schema entry and been ignored by the lookup.
  CHECK(error_of("name: x\n!tag : 3\n") == std::string("deck.yaml:2: expected a key name, got ''"));
  CHECK(error_of("name: x\nsolver.dt: 3\n") ==
        std::string("deck.yaml:2: expected a key name, got 'solver.dt' (write nested keys as sections: 'a:' and "
                    "below it '  b: ...')"));
  const io::Schema s = test_schema();
  CHECK_THROWS_WITH(io::Deck::load("/nonexistent/deck.yaml", s), "/nonexistent/deck.yaml: deck file not found");
}

TEST_CASE("deck: output folders are checked without making them; empty deck files are refused", "[deck]") {
  namespace fs = std::filesystem;
  const io::Schema s = test_schema();
  const fs::path dir = fs::path(tessera::test::test_out()) / "deck_output_dir";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "file") << "x\n";
  // mesh.file, a string key, stands in for an output.dir.
  auto output_dir = [&](const fs::path& p) {
    return io::Deck::parse("name: x\n", "deck.yaml", s, {"mesh.file=" + p.string()}).get_output_dir("mesh.file");
  };
  CHECK(output_dir(dir) == dir.string());
  CHECK(output_dir(dir / "a" / "b") == (dir / "a" / "b").string());
  CHECK_FALSE(fs::exists(dir / "a"));                    // checked, not made
  for (const auto& entry : fs::directory_iterator(dir))  // and nothing left from the check
    CHECK(entry.path().filename().string().rfind(".tessera-probe", 0) == std::string::npos);
  // A folder where nothing can be made although access() says it is writable (root), found
  // before any work: procfs takes no new folders.
  if (fs::is_directory("/proc/self"))
    // (Not root: access() refuses it already, "is not writable".)
    CHECK_THROWS_WITH(output_dir("/proc/no_such_folder/out"),
                      Catch::StartsWith("--set mesh.file: '/proc/no_such_folder/out' cannot be made: /proc ") &&
                          (::geteuid() == 0 ? Catch::Contains("does not take new files or folders")
                                            : Catch::Contains("is not writable")));
  CHECK_THROWS_WITH(output_dir(dir / "file"),
                    "--set mesh.file: '" + (dir / "file").string() + "' is a file, not a folder");
  CHECK_THROWS_WITH(output_dir(dir / "file" / "a" / "b"), "--set mesh.file: '" + (dir / "file" / "a" / "b").string() +
                                                              "' cannot be made: " + (dir / "file").string() +
                                                              " is a file, not a folder");
  // A trailing slash names the same folder; a link to nothing is refused (making a folder there fails).
  CHECK_THROWS_WITH(output_dir((dir / "file").string() + "/"),
                    "--set mesh.file: '" + (dir / "file").string() + "/' is a file, not a folder");
  fs::create_symlink(dir / "nowhere", dir / "dangling");
  CHECK_THROWS_WITH(output_dir(dir / "dangling" / "a"), "--set mesh.file: '" + (dir / "dangling" / "a").string() +
                                                            "' cannot be made: " + (dir / "dangling").string() +
                                                            " is a symbolic link to nothing");
  CHECK_THROWS_WITH(io::Deck::parse("name: x\nmesh:\n  file: ''\n", "deck.yaml", s).get_output_dir("mesh.file"),
                    "deck.yaml:3: mesh.file: expected a non-empty string, got ''");  // the deck refuses it first
  // A deck file without keys (empty, or comments alone) is refused, also with --set; `{}` runs on
  // the defaults. Parsed text (stored decks, tests) may be empty.
  std::ofstream(dir / "empty.yaml") << "# nothing but a comment\n";
  std::ofstream(dir / "braces.yaml") << "{}  # every default\n";
  CHECK_THROWS_WITH(io::Deck::load((dir / "empty.yaml").string(), s, {"name=x"}),
                    (dir / "empty.yaml").string() +
                        ": the deck is empty (no keys); give the keys to set, or write {} to run on every default");
  CHECK(io::Deck::load((dir / "braces.yaml").string(), s, {"name=x"}).get_int("solver.steps") == 10);
  CHECK(io::Deck::parse("", "text", s, {"name=x"}).get_int("solver.steps") == 10);
}

TEST_CASE("deck: an input path is relative to the deck's folder, or from --set to the working directory", "[deck]") {
  namespace fs = std::filesystem;
  io::Schema s("tessera-test");
  io::Schema::input_path(s.add("data.dir", KeyType::String, "", "dataset folder"));
  s.add("data.split", KeyType::String, "test", "split name");  // a string, not a path
  const fs::path dir = fs::path(tessera::test::test_out()) / "deck_input_path";
  fs::remove_all(dir);
  fs::create_directories(dir / "decks");
  std::ofstream(dir / "decks" / "d.yaml") << "data:\n  dir: ../data\n  split: a/b\n";
  const std::string deck = (dir / "decks" / "d.yaml").string();
  // In the deck file: from the deck's folder, whatever the working directory.
  const io::Deck in_file = io::Deck::load(deck, s);
  CHECK(fs::path(in_file.resolve_path(in_file.get_string("data.dir"))).lexically_normal() ==
        (dir / "data").lexically_normal());
  // Given by --set: from the working directory, stored absolute (so a checkpoint's deck finds it
  // again); an absolute value and a key that is no path are kept as they are.
  const io::Deck by_set = io::Deck::load(deck, s, {"data.dir=here/data", "data.split=c/d"});
  CHECK(by_set.get_string("data.dir") == (fs::current_path() / "here" / "data").string());
  CHECK(by_set.resolve_path(by_set.get_string("data.dir")) == (fs::current_path() / "here" / "data").string());
  CHECK(by_set.get_string("data.split") == "c/d");
  CHECK(io::Deck::load(deck, s, {"data.dir=/abs/data"}).get_string("data.dir") == "/abs/data");
  CHECK(io::Deck::parse(by_set.resolved_yaml(), "stored", s).get_string("data.dir") == by_set.get_string("data.dir"));
  // --help says which.
  CHECK_THAT(s.help_text(), Catch::Contains("dataset folder (a path: relative to the deck's folder; given by --set, "
                                            "to the working directory)"));
  CHECK_THROWS_WITH(io::Schema::input_path(s.add("data.count", KeyType::Int, "1", "a count")),
                    "schema: data.count is an input path, so a string key");
}

TEST_CASE("deck: help and markdown list every key", "[deck]") {
  io::Schema s = test_schema();
  const std::string md = s.markdown(), help = s.help_text();
  for (const auto& k : s.keys()) {
    CHECK(md.find("`" + k.path + "`") != std::string::npos);
    CHECK(help.find("\n  " + k.path + "  (") != std::string::npos);  // its own entry, not a mention
  }
  CHECK(md.find("**required**") != std::string::npos);
  CHECK(md.find("- `solver`: time stepping") != std::string::npos);
}

// A schema with two families: keys added inside Schema::family belong to it alone; identical
// keys of two families are shared.
static io::Schema family_schema() {
  io::Schema s("tessera-test");
  s.add("model.family", KeyType::Choice, "a", "family").choices = {"a", "b"};
  s.set_selector("model.family");
  s.add("train.steps", KeyType::Int, "10", "steps").min = 1;
  s.family("a", [](io::Schema& f) {
    f.add("model.width", KeyType::Int, "8", "width").min = 1;
    f.add("model.heads", KeyType::Int, "2", "heads").min = 1;
  });
  s.family("b", [](io::Schema& f) {
    f.add("model.width", KeyType::Int, "8", "width").min = 1;
    f.add("model.steps", KeyType::Int, "3", "steps").min = 1;
  });
  return s;
}

TEST_CASE("deck: family keys", "[deck]") {
  const io::Schema s = family_schema();
  REQUIRE(s.find("model.width")->families == std::vector<std::string>{"a", "b"});
  // The default family gets its own defaults, and only those.
  io::Deck a = io::Deck::parse("{}", "deck.yaml", s);
  CHECK(a.get_int("model.heads") == 2);
  CHECK_FALSE(a.has("model.steps"));
  io::Deck b = io::Deck::parse("model:\n  family: b\n  width: 4\n", "deck.yaml", s);
  CHECK(b.get_int("model.width") == 4);
  CHECK(b.get_int("model.steps") == 3);
  CHECK_FALSE(b.has("model.heads"));
  // A key of another family is rejected with its line and the family it belongs to.
  CHECK_THROWS_WITH(io::Deck::parse("model:\n  family: b\n  heads: 4\n", "deck.yaml", s),
                    "deck.yaml:3: model.heads: belongs to model.family: a, not 'b'");
  CHECK_THROWS_WITH(io::Deck::parse("{}", "deck.yaml", s, {"model.family=b", "model.heads=4"}),
                    "--set model.heads: belongs to model.family: a, not 'b'");
  // A section of another family that only --set makes: the override is named (it read
  // "deck.yaml:0: unknown key 'extra'", blaming the deck file for the command line).
  io::Schema own = family_schema();
  own.family("a", [](io::Schema& f) { f.add("extra.depth", KeyType::Int, "1", "depth"); });
  CHECK_THROWS_WITH(io::Deck::parse("model:\n  family: b\n", "deck.yaml", own, {"extra.depth=3"}),
                    "--set extra.depth: belongs to model.family: a, not 'b'");
  // ... and the keys of that name which the deck's family has (train.lr for stagger.lr).
  own.family("b", [](io::Schema& f) { f.add("own.depth", KeyType::Int, "1", "depth"); });
  CHECK_THROWS_WITH(io::Deck::parse("model:\n  family: b\n", "deck.yaml", own, {"extra.depth=3"}),
                    "--set extra.depth: belongs to model.family: a, not 'b' (b's: own.depth)");
  CHECK_THROWS_WITH(io::Deck::parse("model:\n  family: c\n", "deck.yaml", s),
                    "deck.yaml:2: model.family: expected one of: a, b, got 'c'");
  // Stored decks of older versions may carry other families' keys: they can be dropped.
  io::ParseOptions lenient;
  lenient.drop_other_families = true;
  io::Deck old = io::Deck::parse("model:\n  family: b\n  heads: 4\n", "old.yaml", s, {}, lenient);
  CHECK_FALSE(old.has("model.heads"));
  // Help marks family keys; a key defined differently by two families is a programming error.
  CHECK(s.help_text().find("only with model.family: a, b") != std::string::npos);
  io::Schema bad = family_schema();
  CHECK_THROWS_WITH(bad.family("b", [](io::Schema& f) { f.add("model.width", KeyType::Int, "16", "width"); }),
                    Catch::Contains("key model.width defined twice"));
  // ... and so is one declared alike with other limits: the minimum changed for every family (a
  // review found it, 2026-12-07), while the same limits again are the shared key.
  io::Schema limits = family_schema();
  CHECK_THROWS_WITH(limits.family("b", [](io::Schema& f) { f.add("model.width", KeyType::Int, "8", "width").min = 4; }),
                    Catch::Contains("family b declares key model.width with other limits than the families that share "
                                    "it (an integer >= 4 against an integer >= 1)"));
  CHECK_NOTHROW(
      family_schema().family("b", [](io::Schema& f) { f.add("model.width", KeyType::Int, "8", "width").min = 1; }));
  // Key names: dotted words, and no key below another (neither could be set from a deck).
  for (const char* name : {"model.bad name", "model..x", ".x", "x.", ""})
    CHECK_THROWS_WITH(family_schema().add(name, KeyType::Int, "1", "x"),
                      Catch::Contains("is not dotted words of letters, digits and '_'"));
  CHECK_THROWS_WITH(family_schema().add("train.steps.extra", KeyType::Int, "1", "x"),
                    Catch::Contains("key train.steps.extra and key train.steps: one is below the other"));
}

TEST_CASE("deck: a check between two keys is located at the one --set changed", "[deck]") {
  io::Schema s("test");
  io::add_mesh_keys(s);
  const std::string deck = "mesh:\n  cylinder:\n    h_near: 0.01\n    h_far: 0.04\n";
  auto error_of = [&](const std::vector<std::string>& sets) {
    try {
      io::mesh_options(io::Deck::parse(deck, "deck.yaml", s, sets));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // The override made them disagree: the error says so, not the deck's line of the other key.
  CHECK(error_of({"mesh.cylinder.h_near=0.1"}) == "--set mesh.cylinder.h_near: h_far (0.04) must be >= h_near (0.1)");
  CHECK(error_of({"mesh.cylinder.h_far=0.001"}) == "--set mesh.cylinder.h_far: h_far (0.001) must be >= h_near (0.01)");
  CHECK(error_of({"mesh.cylinder.h_near=0.1", "mesh.cylinder.h_far=0.05"}) ==
        "--set mesh.cylinder.h_far: h_far (0.05) must be >= h_near (0.1)");
}

TEST_CASE("deck: errors raised later with a key are located like deck errors", "[deck]") {
  const io::Schema s = test_schema();
  io::Deck d = io::Deck::parse("name: run1\nsolver:\n  steps: 20\n", "deck.yaml", s);
  const Error late("exceeds the 12 nodes", "solver.steps");
  CHECK(late.key() == "solver.steps");
  CHECK(d.message_at(late.key(), late.what()) == "deck.yaml:3: solver.steps: exceeds the 12 nodes");
  // A section only --set made has no line in the file: the override is named (was "deck.yaml:0").
  io::Deck set = io::Deck::parse("name: run1\n", "deck.yaml", s, {"solver.dt=0.5"});
  CHECK(set.message_at("solver", "too coarse") == "--set solver.dt: solver: too coarse");
  // A section of the file whose key --set changed: both are named (the file's line alone blamed
  // the file for the override's value).
  io::Deck both = io::Deck::parse("name: run1\nsolver:\n  steps: 20\n", "deck.yaml", s, {"solver.dt=0.5"});
  CHECK(both.message_at("solver", "too coarse") == "deck.yaml:2 (with --set solver.dt): solver: too coarse");
  // A key --set gave is named once.
  CHECK(both.message_at("solver.dt", "solver.dt: too coarse") == "--set solver.dt: too coarse");
}
