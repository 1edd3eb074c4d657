// Which files hold a job: case's field outputs: its own and those of the runs it continues. A
// restart file carries the list up to its state, so that a continuation's .xmf and .pvd index the
// whole run (the earlier steps in the earlier runs' folders), as its forces table covers it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::jobs {

struct FieldSteps {
  // Each run's output base <dir>/<name>, relative to a folder the holder names (a restart file's:
  // the folder it is in; a continuation's: its working directory).
  std::vector<std::string> segments;
  // One field output: its time and files <segment>_<index, 6 digits>.h5 (XDMF) and
  // <segment>_<index>.vtu, whichever the run wrote.
  struct Step {
    double time = 0;
    int32_t segment = 0;
    int64_t index = 0;
  };
  std::vector<Step> steps;
};

}  // namespace tessera::jobs
