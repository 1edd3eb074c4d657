// io: deck keys read only under some settings (Schema::read_only_when) and the warnings that name
// those a deck sets without effect.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "tests/io/deck_schema_fixture.hpp"

using namespace tessera;
using io::KeyType;
using test::test_schema;

// Keys read only under some settings (Schema::read_only_when): set otherwise, each is named once,
// under the first of its conditions that fails, grouped by condition.
TEST_CASE("deck: keys a deck sets but does not read are named", "[deck]") {
  io::Schema s = test_schema();
  s.add("solver.mode", KeyType::Choice, "steady", "mode").choices = {"steady", "transient"};
  s.add("solver.cfl", KeyType::Float, "1", "CFL limit");
  s.read_only_when("solver.dt", {{"solver.mode", {"transient"}}});
  s.read_only_when("solver.steps", {{"solver.mode", {"transient"}}});
  s.read_only_when("solver.cfl", {{"solver.mode", {"transient"}}, {"solver.verbose", {"true"}}});
  s.read_only_when("mesh", {{"name", {"meshed"}}});
  s.read_only_when("mesh.file", {{"solver.method", {"cn"}}}, "bdf2 reads its mesh from mesh.groups");
  auto unread = [&](const std::string& yaml, const std::vector<std::string>& ov = {}) {
    return io::Deck::parse(yaml, "deck.yaml", s, ov).unread_given_keys();
  };
  // Defaults are not "set", and a key given at its default changes nothing: nothing to say.
  CHECK(unread("name: run\n").empty());
  CHECK(
      unread("name: run\nsolver:\n  dt: 0.010\n  steps: 10\nmesh:\n  center: [0.0, 0]\n", {"solver.cfl=1.0"}).empty());
  CHECK(unread("name: run\nsolver:\n  dt: 0.1\n  steps: 3\n") ==
        std::vector<std::string>{"solver.dt, solver.steps are read only with solver.mode: transient, and the deck has "
                                 "solver.mode: steady: they have no effect"});
  CHECK(unread("name: run\nsolver:\n  mode: transient\n  dt: 0.1\n").empty());
  // --set counts as setting; one alternative of several holding is enough (a bool in any spelling).
  CHECK(unread("name: run\n", {"solver.cfl=2"}) ==
        std::vector<std::string>{"solver.cfl is read only with solver.mode: transient or solver.verbose: true, and the "
                                 "deck has solver.mode: steady, solver.verbose: false: it has no effect"});
  CHECK(unread("name: run\nsolver:\n  verbose: yes\n  cfl: 2\n").empty());
  // A section's condition covers its keys; a key is named under its first failing condition only.
  CHECK(unread("name: run\nmesh:\n  file: a.msh\n  center: [1, 1]\n") ==
        std::vector<std::string>{"mesh.center, mesh.file are read only with name: meshed, and the deck has name: run: "
                                 "they have no effect"});
  CHECK(unread("name: meshed\nmesh:\n  file: a.msh\n") ==
        std::vector<std::string>{"mesh.file is read only with solver.method: cn, and the deck has solver.method: "
                                 "bdf2: it has no effect (bdf2 reads its mesh from mesh.groups)"});
  // The start-up echo (read_yaml) leaves the idle keys out, given or default, and a section left
  // empty; the stored deck (resolved_yaml) keeps them all.
  {
    const io::Deck d = io::Deck::parse("name: run\nsolver:\n  dt: 0.1\n", "deck.yaml", s);
    size_t idle = 0;
    const std::string read = d.read_yaml(&idle);
    CHECK(idle == 5);  // solver.dt, steps, cfl; mesh.center, groups (mesh.file has no default)
    CHECK(read == "solver:\n  method: bdf2\n  verbose: false\n  mode: steady\nname: run");
    CHECK(d.resolved_yaml().find("dt: 0.1") != std::string::npos);
    CHECK(d.resolved_yaml().find("groups:") != std::string::npos);
    const io::Deck t = io::Deck::parse("name: meshed\nsolver:\n  mode: transient\n  method: cn\n", "deck.yaml", s);
    CHECK(t.read_yaml(&idle) == t.resolved_yaml());
    CHECK(idle == 0);
  }
  // Help and the Markdown reference say when a key is read.
  CHECK(s.help_text().find("read only with solver.mode: transient or solver.verbose: true") != std::string::npos);
  // Two conditions on one key must both hold: one line, joined by "and" (two lines read either way).
  CHECK(s.markdown().find("(read only with name: meshed and solver.method: cn)") != std::string::npos);
  CHECK(s.help_text().find("read only with name: meshed and solver.method: cn\n") != std::string::npos);
  // Declared again (families sharing the keys do): kept once.
  const size_t conditions = s.read_conditions().size();
  s.read_only_when("solver.dt", {{"solver.mode", {"transient"}}});
  CHECK(s.read_conditions().size() == conditions);
  // Conditions that cannot be evaluated are the schema's mistakes.
  CHECK_THROWS_WITH(s.read_only_when("solver.nothing", {{"solver.mode", {"steady"}}}),
                    Catch::Contains("no key at or below solver.nothing"));
  CHECK_THROWS_WITH(s.read_only_when("solver.dt", {{"mesh.groups", {"a"}}}),
                    Catch::Contains("mesh.groups is not a choice, string, bool or number key"));
  CHECK_THROWS_WITH(s.read_only_when("solver.dt", {{"solver.mode", {"implicit"}}}),
                    Catch::Contains("'implicit' is not a value of solver.mode"));
  CHECK_THROWS_WITH(s.read_only_when("solver.dt", {io::not_one_of("solver.steps", {"one"})}),
                    Catch::Contains("'one' is not a value of solver.steps"));
  CHECK_THROWS_WITH(s.read_only_when("solver.dt", {{"solver.verbose", {"yes"}}}),
                    Catch::Contains("'yes' is not a value of solver.verbose"));
}

TEST_CASE("deck: keys read only where a list key is empty, or is not", "[deck]") {
  io::Schema s = test_schema();
  s.add("solver.ids", KeyType::IntList, "[]", "ids; empty: solver.id alone");
  s.add("solver.id", KeyType::Int, "0", "the one id");
  s.add("solver.together", KeyType::Bool, "true", "the ids at once");
  s.read_only_when("solver.id", {{"solver.ids", {"[]"}}}, "solver.ids lists them");
  s.read_only_when("solver.together", {io::not_one_of("solver.ids", {"[]"})});
  auto unread = [&](const std::string& yaml) { return io::Deck::parse(yaml, "deck.yaml", s).unread_given_keys(); };
  CHECK(unread("name: r\nsolver:\n  id: 4\n  ids: [1, 2]\n") ==
        std::vector<std::string>{"solver.id is read only with solver.ids empty, and the deck has solver.ids: [1, 2]: "
                                 "it has no effect (solver.ids lists them)"});
  CHECK(unread("name: r\nsolver:\n  id: 4\n").empty());
  CHECK(unread("name: r\nsolver:\n  together: false\n") ==
        std::vector<std::string>{"solver.together is read only with solver.ids not empty, and the deck has "
                                 "solver.ids: []: it has no effect"});
  CHECK(unread("name: r\nsolver:\n  together: false\n  ids: [3]\n").empty());
  // A list compares with [] alone.
  CHECK_THROWS_WITH(s.read_only_when("solver.id", {{"solver.ids", {"[1]"}}}),
                    Catch::Contains("solver.ids is not a choice, string, bool or number key"));
}

TEST_CASE("deck: keys read only where a number is not some value, or a string is unset", "[deck]") {
  io::Schema s = test_schema();
  s.add("solver.noise", KeyType::Float, "0", "noise level; 0: off");
  s.add("solver.seed", KeyType::Int, "0", "noise seed");
  s.add("solver.restart", KeyType::String, "", "restart file");
  s.read_only_when("solver.seed", {io::not_one_of("solver.noise", {"0"})}, "no noise is drawn");
  // Several values, and one alternative of a plain condition beside a negated one.
  s.read_only_when("solver.dt", {io::not_one_of("solver.steps", {"1", "2"}), {"solver.verbose", {"true"}}});
  s.read_only_when("mesh.file", {{"solver.restart", {""}}}, "the restart holds the mesh");
  s.read_only_when("mesh.center", {io::not_one_of("solver.restart", {""})});
  s.add("solver.late_dt", KeyType::Float, "0.1", "step after the seed-th");
  s.read_only_when("solver.late_dt", {io::below("solver.seed", "solver.steps")}, "no step is that late");
  auto unread = [&](const std::string& yaml, const std::vector<std::string>& ov = {}) {
    return io::Deck::parse(yaml, "deck.yaml", s, ov).unread_given_keys();
  };
  // Numbers compare as numbers, however spelled.
  CHECK(unread("name: r\nsolver:\n  seed: 3\n") ==
        std::vector<std::string>{"solver.seed is read only with solver.noise other than 0, and the deck has "
                                 "solver.noise: 0: it has no effect (no noise is drawn)"});
  CHECK(unread("name: r\nsolver:\n  seed: 3\n  noise: 0.0e0\n").size() == 1);
  CHECK(unread("name: r\nsolver:\n  seed: 3\n  noise: 1e-2\n").empty());
  CHECK(unread("name: r\nsolver:\n  dt: 0.5\n  steps: 2\n") ==
        std::vector<std::string>{
            "solver.dt is read only with solver.steps other than 1 and 2 or solver.verbose: true, and "
            "the deck has solver.steps: 2, solver.verbose: false: it has no effect"});
  CHECK(unread("name: r\nsolver:\n  dt: 0.5\n  steps: 3\n").empty());
  CHECK(unread("name: r\nsolver:\n  dt: 0.5\n  steps: 1\n  verbose: true\n").empty());
  // A string key left unset is "": "unset" and "set".
  CHECK(unread("name: r\nmesh:\n  file: a.msh\n").empty());
  CHECK(unread("name: r\nmesh:\n  file: a.msh\n", {"solver.restart=r.h5"}) ==
        std::vector<std::string>{"mesh.file is read only with solver.restart unset, and the deck has solver.restart: "
                                 "r.h5: it has no effect (the restart holds the mesh)"});
  CHECK(unread("name: r\nmesh:\n  center: [1, 2]\n") ==
        std::vector<std::string>{"mesh.center is read only with solver.restart set, and the deck has solver.restart: "
                                 "(none): it has no effect"});
  CHECK(unread("name: r\nsolver:\n  restart: r.h5\nmesh:\n  center: [1, 2]\n").empty());
  // One number below another.
  CHECK(unread("name: r\nsolver:\n  late_dt: 0.5\n  seed: 9\n", {"solver.noise=1"}).empty());
  CHECK(unread("name: r\nsolver:\n  late_dt: 0.5\n  seed: 10\n", {"solver.noise=1"}) ==
        std::vector<std::string>{"solver.late_dt is read only with solver.seed below solver.steps, and the deck has "
                                 "solver.seed: 10, solver.steps: 10: it has no effect (no step is that late)"});
  CHECK_THROWS_WITH(s.read_only_when("solver.dt", {io::below("solver.seed", "solver.method")}),
                    Catch::Contains("solver.seed below solver.method does not compare two number keys"));
  CHECK(s.help_text().find("read only with solver.noise other than 0") != std::string::npos);
  CHECK(s.markdown().find("(read only with solver.restart unset)") != std::string::npos);
  CHECK_THROWS_WITH(s.read_only_when("solver", {{"solver.mode", {"steady"}}}), Catch::Contains("outside it"));
}

TEST_CASE("deck: an element of a list key read only under another setting", "[deck]") {
  io::Schema s = test_schema();
  s.add("solver.weights", KeyType::FloatList, "[10, 1, 1000]", "weights of three terms").list_size = 3;
  s.read_only_when("solver.weights[0]", {{"solver.verbose", {"true"}}}, "the first term is off");
  s.read_only_when("solver.weights[2]", {io::not_one_of("solver.steps", {"1"})});
  auto unread = [&](const std::string& yaml) { return io::Deck::parse(yaml, "deck.yaml", s).unread_given_keys(); };
  // The list is set whole to change one element: an idle element is named only where it differs
  // from its default (10 and 1e1 alike).
  CHECK(unread("name: r\nsolver:\n  weights: [10, 5, 1000]\n").empty());
  CHECK(unread("name: r\nsolver:\n  weights: [1e1, 5, 1000]\n").empty());
  CHECK(unread("name: r\nsolver:\n  weights: [3, 5, 1000]\n") ==
        std::vector<std::string>{"solver.weights[0] is read only with solver.verbose: true, and the deck has "
                                 "solver.verbose: false: it has no effect (the first term is off)"});
  CHECK(unread("name: r\nsolver:\n  verbose: true\n  weights: [3, 5, 1000]\n").empty());
  CHECK(unread("name: r\nsolver:\n  steps: 1\n  weights: [3, 5, 7]\n").size() == 2);
  CHECK(unread("name: r\nsolver:\n  steps: 2\n  weights: [10, 5, 7]\n").empty());
  CHECK(s.help_text().find("element 0 read only with solver.verbose: true") != std::string::npos);
  CHECK(s.markdown().find("(element 2 read only with solver.steps other than 1)") != std::string::npos);
  // Schema mistakes: an element past the list's size, or of a key that is not a list.
  CHECK_THROWS_WITH(s.read_only_when("solver.weights[3]", {{"solver.verbose", {"true"}}}),
                    Catch::Contains("not an element of a list key of fixed size"));
  CHECK_THROWS_WITH(s.read_only_when("solver.steps[0]", {{"solver.verbose", {"true"}}}),
                    Catch::Contains("not an element of a list key of fixed size"));
  CHECK_THROWS_WITH(s.read_only_when("solver.weights[1]", {{"solver.weights", {"1"}}}), Catch::Contains("outside it"));
}
