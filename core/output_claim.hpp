// Claims on a run's output files: a lock file `.<name>.lock` in the output folder (flock,
// exclusive), held until the run ends. A second run that would write the same files (two job
// scripts with one output folder, a job started twice) stops before any work with one line naming
// the holder; before, both ran to the end, each overwrote the other's checkpoint, histories and
// field files, and a dataset job lost its meta.json. Runs whose files differ (two rollouts with
// other output.name values in one folder) claim different names and do not wait for each other.
// The kernel drops a lock when its process ends, however it ends (kill -9 too), so a lock file
// left behind by a killed run holds nothing back.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::core {

struct ClaimOutcome {
  // Empty when the claim holds; else why not: "in use by another run (<its holder line>)", or the
  // file system's refusal of locks (then `unsupported`).
  std::string refused;
  // This file system takes no locks (Lustre mounted without flock, some NFS set-ups): the run
  // may go on unguarded, and says so.
  bool unsupported = false;
  // Unfinished files (`<prefix>...tmp`) of an earlier run that was killed, removed by the claim.
  std::vector<std::string> removed_temporaries;
};

class OutputClaims {
 public:
  OutputClaims() = default;
  OutputClaims(const OutputClaims&) = delete;
  OutputClaims& operator=(const OutputClaims&) = delete;
  // Releases every claim: removes its lock file, then the folders the claim made where they are
  // still empty (a run that failed before writing anything leaves no folders behind). An
  // interrupt (SIGTERM, Ctrl-C) removes them too (core/atomic_file.hpp).
  ~OutputClaims();

  // Claims `<dir>/.<name>.lock` for `holder` (a line naming the program; pid, host and time are
  // added), making the folder if missing. Once held, removes the unfinished temporaries
  // `<dir>/<p>*.tmp` for each p in `temp_prefixes`: files of this run's kind that only a killed
  // run can have left, since no other run writes them now. A name claimed again is held already.
  ClaimOutcome claim(const std::string& dir, const std::string& name, const std::string& holder,
                     const std::vector<std::string>& temp_prefixes = {});

 private:
  struct Held {
    std::string path;
    int fd;
  };
  std::vector<Held> held_;
  std::vector<std::filesystem::path> made_;  // folders made by claims, parents first, each once
  std::vector<int> on_interrupt_;            // their entries in the list an interrupt removes
};

}  // namespace tessera::core
