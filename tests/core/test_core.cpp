// core: progress text, atomic files, errors carrying a key, Comm on one rank.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.hpp"
#include "core/comm.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"

using namespace tessera;

TEST_CASE("errors carry an optional key", "[error]") {
  const Error plain(cat("value ", 3, " is bad"));
  CHECK(std::string(plain.what()) == "value 3 is bad");
  CHECK(plain.key().empty());
  const Error keyed("must be > 0", "train.steps");
  CHECK(keyed.key() == "train.steps");
  CHECK(std::string(keyed.what()) == "must be > 0");
}

TEST_CASE("Comm of this process alone", "[comm]") {
  const Comm self = Comm::self();
  CHECK(self.size() == 1);
  CHECK(self.root());
  double x[2] = {1.5, -2};
  self.allreduce_sum(x, 2);
  CHECK(x[0] == 1.5);
  CHECK(x[1] == -2);
}

TEST_CASE("progress text", "[progress]") {
  core::Progress p(nullptr, "steps", 200, 10.0, false);
  p.advance(50);
  std::string l = p.line("loss 0.5");
  CHECK(l.rfind("steps 50/200  25.0% ", 0) == 0);
  CHECK(l.find("ETA") != std::string::npos);
  CHECK(l.find("loss 0.5") != std::string::npos);
}

TEST_CASE("atomic text files leave no temporary behind", "[atomic]") {
  const std::string dir = std::string(TESSERA_TEST_OUT) + "/atomic";
  std::filesystem::remove_all(dir);
  core::write_text_atomic(dir + "/a/b.txt", "hello\n");
  std::ifstream in(dir + "/a/b.txt");
  std::string line;
  std::getline(in, line);
  CHECK(line == "hello");
  CHECK_FALSE(std::filesystem::exists(core::temp_path(dir + "/a/b.txt")));
  CHECK_THROWS_WITH(core::commit_temp(dir + "/none.txt"), Catch::Contains("cannot move the finished file into place"));
}
