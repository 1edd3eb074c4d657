// core::OutputClaims: a second writer of the same files is refused and told who holds them; a
// killed holder holds nothing back; claims release their lock files and the folders they made, and
// remove a killed run's unfinished files, not a running one's. (What an interrupt removes: in
// test_core, beside the other interrupt tests.)
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/output_claim.hpp"
#include "tests/test_paths.hpp"

using namespace tessera;

TEST_CASE("a claim on output files stops a second writer, names the first, and ends with its run", "[claim]") {
  namespace fs = std::filesystem;
  const std::string dir = tessera::test::test_out() + "/claim";
  fs::remove_all(dir);
  const std::string out = dir + "/a/b";  // made by the claim, with its parent
  auto in_out = [&](const std::string& file) { return fs::absolute(out + "/" + file).lexically_normal().string(); };
  fs::create_directories(dir);
  {
    core::OutputClaims first;
    REQUIRE(first.claim(out, "training", "tessera-train").refused.empty());
    CHECK(fs::exists(out + "/.training.lock"));
    CHECK(first.claim(out, "training", "tessera-train").refused.empty());  // held already: a no-op
    // Another claim on the same files (another open file: flock tells them apart, within one
    // process as between two) is refused, naming the holder.
    core::OutputClaims second;
    const core::ClaimOutcome o = second.claim(out, "training", "tessera-train");
    INFO(o.refused);
    CHECK(o.refused.rfind(cat("is in use by another run (tessera-train, pid ", ::getpid(), " on host ",
                              core::host_name(), ", since 20"),
                          0) == 0);
    CHECK_FALSE(o.unsupported);
    // Files of other names in the same folder are not held back.
    CHECK(second.claim(out, "rollout", "tessera-rollout").refused.empty());
  }
  // Released: the lock files are gone, and so are the folders the claims made (still empty).
  CHECK_FALSE(fs::exists(dir + "/a"));
  CHECK(fs::exists(dir));
  // A holder killed before it released (here a child that ends without its destructors) leaves
  // its lock file, but no lock: the next run claims the files.
  const pid_t child = ::fork();
  if (child == 0) {
    auto* leaked = new core::OutputClaims;
    ::_exit(leaked->claim(out, "training", "tessera-train").refused.empty() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(fs::exists(out + "/.training.lock"));
  // Its unfinished files (the prefixes given) go with the claim; others' stay, as do finished ones.
  for (const char* f : {"checkpoint.h5.tmp", "checkpoint.pt.tmp", "rollout_000007.h5.tmp", "checkpoint.h5"})
    std::ofstream(out + "/" + f) << "x";
  {
    core::OutputClaims next;
    const core::ClaimOutcome o = next.claim(out, "training", "tessera-train", {"checkpoint.", "loss.csv"});
    CHECK(o.refused.empty());
    CHECK(o.removed_temporaries == std::vector<std::string>{in_out("checkpoint.h5.tmp"), in_out("checkpoint.pt.tmp")});
  }
  CHECK(fs::exists(out + "/rollout_000007.h5.tmp"));
  CHECK(fs::exists(out + "/checkpoint.h5"));
  CHECK_FALSE(fs::exists(out + "/.training.lock"));  // the folder holds files: it stays
  // A claim held now by another run whose name begins as this one's: its unfinished files are its
  // own, not a killed run's (a new "rollout" removed a running "rollout_fine"'s).
  for (const char* f : {"rollout_fine_000001.h5.tmp", "rollout_000001.h5.tmp"}) std::ofstream(out + "/" + f) << "x";
  {
    core::OutputClaims fine, plain;
    REQUIRE(fine.claim(out, "rollout_fine", "tessera-rollout").refused.empty());
    const core::ClaimOutcome o = plain.claim(out, "rollout", "tessera-rollout", {"rollout.", "rollout_"});
    CHECK(o.refused.empty());
    CHECK(o.removed_temporaries ==
          std::vector<std::string>{in_out("rollout_000001.h5.tmp"), in_out("rollout_000007.h5.tmp")});
    CHECK(fs::exists(out + "/rollout_fine_000001.h5.tmp"));
  }
}
