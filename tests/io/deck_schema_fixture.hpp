// The small schema the deck tests share (tests/io/test_io.cpp, test_io_deck_reads.cpp): a
// section of each key type, ranges, a fixed-length list and a required key.
#pragma once
#include "io/schema.hpp"

namespace tessera::test {

inline io::Schema test_schema() {
  io::Schema s("tessera-test");
  s.section("solver", "time stepping");
  s.add("solver.dt", io::KeyType::Float, "0.01", "time step").min = 0;
  s.find("solver.dt");
  auto& steps = s.add("solver.steps", io::KeyType::Int, "10", "number of steps");
  steps.min = 1;
  steps.max = 1000;
  s.add("solver.method", io::KeyType::Choice, "bdf2", "time scheme").choices = {"bdf2", "cn"};
  s.add("solver.verbose", io::KeyType::Bool, "false", "print more");
  s.add("mesh.center", io::KeyType::FloatList, "[0, 0]", "centre").list_size = 2;
  s.add("mesh.groups", io::KeyType::StringList, "[a, b]", "groups");
  s.add("mesh.file", io::KeyType::String, "", "optional file");
  s.required("name", io::KeyType::String, "run name");
  return s;
}

}  // namespace tessera::test
