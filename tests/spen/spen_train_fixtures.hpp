// Shared by the graph-classifier training and evaluation tests (test_spen_train.cpp,
// test_spen_evaluate.cpp): an output folder per test and rank count.
#pragma once
#include <string>

#include "core/comm.hpp"
#include "core/error.hpp"
#include "tests/test_paths.hpp"

namespace tessera::spen_test {

// <test_out>/spen_train/<name>_np<ranks>: ctest runs the np copies of a program at once.
inline std::string out_dir(const std::string& name) {
  // Appended piecewise: GCC 12 warns falsely (-Warray-bounds) on the chained operator+ here.
  std::string dir = tessera::test::test_out();
  dir += "/spen_train/";
  dir += name;
  dir += cat("_np", Comm().size());
  return dir;
}

}  // namespace tessera::spen_test
