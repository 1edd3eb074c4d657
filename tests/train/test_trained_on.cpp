// What a checkpoint records of its training trajectories (train/trained_on.hpp): the record's
// round trip through a checkpoint file, the resume check and the rollout warning.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "core/error.hpp"
#include "tests/test_paths.hpp"
#include "train/checkpoint.hpp"
#include "train/trained_on.hpp"

using namespace tessera;

TEST_CASE("TrainedOn: stored in a checkpoint, compared on resume, named in rollouts", "[trained_on]") {
  const train::TrainedOn t{"/data/a/train.h5", {"0000beef", "12345678", "cafe0042"}};
  CHECK(t.known());
  CHECK(t.position("12345678") == 1);
  CHECK(t.position("deadbeef") == -1);
  CHECK(t.position("") == -1);

  const std::string dir = test::test_out() + "/trained_on";
  std::filesystem::create_directories(dir);
  train::Checkpoint c;
  c.tensors["x"] = at::zeros({1});
  train::put_trained_on(c, t);
  train::save_checkpoint(dir + "/c.h5", c);
  const train::TrainedOn back = train::stored_trained_on(train::load_checkpoint(dir + "/c.h5"), dir + "/c.h5");
  CHECK(back.source == t.source);
  CHECK(back.fingerprints == t.fingerprints);
  // Checkpoints from before the record: unknown, and nothing to compare.
  CHECK_FALSE(train::stored_trained_on(train::Checkpoint{}, "old.h5").known());
  CHECK(train::other_data_error("old.h5", train::TrainedOn{}, t).empty());
  // A damaged record is one error naming the file.
  train::Checkpoint damaged;
  damaged.tensors["trained_on.fingerprints"] = at::tensor(at::ArrayRef<int64_t>({0xbeef, int64_t(1) << 40}));
  CHECK_THROWS_WITH(train::stored_trained_on(damaged, "d.h5"),
                    Catch::Contains("d.h5: checkpoint tensor trained_on.fingerprints holds 1099511627776"));
  // More trajectories than one text attribute could list (HDF5 limits one to 64 KiB).
  train::TrainedOn many{"/big/train.h5", {}};
  for (int i = 0; i < 10000; ++i) {
    char f[9];
    std::snprintf(f, sizeof f, "%08x", 0x9e3779b9u * unsigned(i));
    many.fingerprints.push_back(f);
  }
  train::Checkpoint big;
  train::put_trained_on(big, many);
  train::save_checkpoint(dir + "/big.h5", big);
  CHECK(train::stored_trained_on(train::load_checkpoint(dir + "/big.h5"), dir + "/big.h5").fingerprints ==
        many.fingerprints);

  // Resume: the same trajectories from another folder go on; other ones are named.
  CHECK(train::other_data_error("c.h5", t, {"/scratch/a/train.h5", t.fingerprints}).empty());
  CHECK_THAT(train::other_data_error("c.h5", t, {"/b/train.h5", {"0000beef", "12345679", "cafe0042"}}),
             Catch::StartsWith("c.h5: this run was trained on 3 trajectories of /data/a/train.h5; /b/train.h5 "
                               "holds other data (its training trajectory #1 differs)"));
  CHECK_THAT(train::other_data_error("c.h5", t, {"/b/train.h5", {"0000beef", "12345678"}}),
             Catch::Contains("(it holds 2 training trajectories where the run had 3)"));
  CHECK_THAT(train::other_data_error("c.h5", t, {"/b/train.h5", {"0000beef", "12345678"}}),
             Catch::EndsWith("to train on other data, fine-tune from the checkpoint with train.init)"));

  // Rollout: only trajectories found among the training ones are named, with their positions.
  CHECK(train::trained_on_warning(t, "/d/test.h5", {0, 1}, {-1, -1}).empty());
  CHECK(train::trained_on_warning(t, "/d/train.h5", {4}, {2}) ==
        "/d/train.h5 #4 is training trajectory #2 of the model (trained on /data/a/train.h5): its errors show how "
        "well the model fits data it has seen, not how it does on trajectories it has not");
  CHECK_THAT(train::trained_on_warning(t, "/d/mixed.h5", {0, 5, 6}, {0, -1, 1}),
             Catch::StartsWith("/d/mixed.h5 #0, #6 are training trajectories #0, #1 of the model"));
}

TEST_CASE("TrainedOn of a fine-tuned model: the data of the models before it", "[trained_on]") {
  const train::TrainedOn a{"/data/a/train.h5", {"0000beef", "12345678", "cafe0042"}};
  const train::TrainedOn b{"/data/b/train.h5", {"000000b0", "000000b1"}, a.lineage()};  // fine-tuned from a
  const train::TrainedOn c{"/data/c/train.h5", {"000000c0"}, b.lineage()};              // and then from b
  REQUIRE(c.before.size() == 2);
  CHECK(c.before[0].source == b.source);
  CHECK(c.before[1].fingerprints == a.fingerprints);
  CHECK(c.before[0].before.empty());
  // Positions run through the generations: c's own, then b's, then a's.
  CHECK(c.position("000000c0") == 0);
  CHECK(c.position("000000b1") == 2);
  CHECK(c.position("cafe0042") == 5);
  CHECK(c.position("99999999") == -1);
  CHECK(c.where(5) == std::pair<size_t, int64_t>{2, 2});
  CHECK(c.where(1) == std::pair<size_t, int64_t>{1, 0});
  // Stored and read back, every generation.
  const std::string dir = test::test_out() + "/trained_on";
  std::filesystem::create_directories(dir);
  train::Checkpoint ck;
  train::put_trained_on(ck, c);
  train::save_checkpoint(dir + "/tuned.h5", ck);
  const train::TrainedOn back = train::stored_trained_on(train::load_checkpoint(dir + "/tuned.h5"), dir + "/tuned.h5");
  CHECK(back.fingerprints == c.fingerprints);
  REQUIRE(back.before.size() == 2);
  CHECK(back.before[1].source == a.source);
  CHECK(back.before[1].fingerprints == a.fingerprints);
  // A checkpoint from before the record (unknown data) adds no generation.
  CHECK(train::TrainedOn{}.lineage().empty());
  // The warning names the generation that trained on each trajectory.
  CHECK(train::trajectory_trained_on_warning(c, "/d/train.h5", 7, "cafe0042") ==
        "/d/train.h5 #7 is training trajectory #2 of the model 2 fine-tunings before it (trained on "
        "/data/a/train.h5): its errors show how well the model fits data it has seen, not how it does on "
        "trajectories it has not");
  CHECK(train::trained_on_warning(b, "/d/x.h5", {0, 1, 2}, {b.position("000000b0"), -1, b.position("0000beef")}) ==
        "/d/x.h5 #0 is training trajectory #0 of the model (trained on /data/b/train.h5); /d/x.h5 #2 is training "
        "trajectory #0 of the model it was fine-tuned from (trained on /data/a/train.h5): their errors show how "
        "well the model fits data it has seen, not how it does on trajectories it has not");
  // A resume compares the run's own data alone.
  CHECK(train::other_data_error("c.h5", c, {"/data/c/train.h5", {"000000c0"}}).empty());
}
