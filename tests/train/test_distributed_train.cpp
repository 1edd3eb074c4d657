// Graph-parallel training at np = 1, 2, 3 (ctest test_distributed_train.np*): every rank also
// trains the single-process reference on its own (Comm::self()). Losses, every step's gradients
// and the final parameters agree to float tolerance; a checkpoint written by the distributed run
// resumes serially and vice versa.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "io/deck.hpp"
#include "mesh/augment.hpp"
#include "tests/synthetic_flow.hpp"
#include "tests/test_paths.hpp"
#include "train/mesh_data.hpp"
#include "train/mesh_sim_family.hpp"
#include "train/trainer.hpp"

using namespace tessera;

namespace {

std::string out_dir() {
  static const std::string d = tessera::test::test_out() + "/dist_train_np" + std::to_string(Comm().size());
  return d;
}

const std::string& dataset() {
  static const std::string dir = [] {
    Comm comm;
    const std::string d = out_dir() + "/data";
    if (comm.root()) {
      std::filesystem::remove_all(d);
      test::write_synthetic_dataset(d, 2, 1, 8);
    }
    comm.barrier();
    return d;
  }();
  return dir;
}

const io::Schema& train_schema() {
  static const io::Schema schema = [] {
    io::Schema s("tessera-train");
    train::add_training_keys(s, train::mesh_sim_families());
    return s;
  }();
  return schema;
}

io::Deck make_deck(const io::Schema& schema, const std::string& family, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> ov{"data.dir=" + dataset(),   "model.family=" + family, "train.steps=4",
                              "model.latent=16",         "model.layers=2",         "train.warmup=2",
                              "output.dir=" + out_dir(), "train.parallel=graph"};
  if (family == "transformer") ov.insert(ov.end(), {"augment.dilation=2", "model.dilation_layers=1"});
  ov.insert(ov.end(), extra.begin(), extra.end());
  return io::Deck::parse("{}", "test.yaml", schema, ov);
}

void check_same_parameters(train::Trainer& a, train::Trainer& b, double rtol, double atol = 1e-6) {
  auto pa = a.model().module().named_parameters(), pb = b.model().module().named_parameters();
  for (const auto& p : pa) {
    INFO(p.key() << " max diff " << (p.value() - pb[p.key()]).abs().max().item<double>());
    CHECK(at::allclose(p.value(), pb[p.key()], rtol, atol));
  }
}

// The gradients of the step just taken, each tensor to 1e-5 of its largest entry. Sharper than
// the loss or the parameters: an untrained model's loss barely moves with the inputs at the
// edge of the halo (dropping the halo refresh between unrolled passes changes it by 5e-8), and
// Adam turns summation-order noise into updates of order lr, while the gradients differ by at
// most 6e-7 with the refresh and by 7e-5 to 2e-4 without it.
void check_same_gradients(train::Trainer& a, train::Trainer& b) {
  auto pa = a.model().module().named_parameters(), pb = b.model().module().named_parameters();
  for (const auto& p : pa) {
    const at::Tensor ga = p.value().grad(), gb = pb[p.key()].grad();
    REQUIRE(ga.defined() == gb.defined());
    if (!ga.defined()) continue;
    const double scale = ga.abs().max().item<double>(), diff = (ga - gb).abs().max().item<double>();
    INFO(p.key() << " gradient max diff " << diff << " of max " << scale);
    CHECK(diff <= 1e-5 * scale + 1e-12);
  }
}

// Steps both trainers side by side: equal losses and gradients every step, equal parameters at the
// end. `atol`: Adam turns the summation-order noise of a near-zero gradient into an update of
// order lr.
void check_same_training(train::Trainer& serial, train::Trainer& dist, int steps, double atol = 1e-6) {
  for (int s = 0; s < steps; ++s) {
    const double ls = serial.step(), ld = dist.step();
    INFO("step " << s);
    CHECK(ld == Approx(ls).epsilon(1e-5));
    check_same_gradients(serial, dist);
  }
  check_same_parameters(serial, dist, 1e-4, atol);
}

}  // namespace

TEST_CASE("graph-parallel training equals single-process training", "[mpi][train]") {
  const io::Schema& schema = train_schema();
  Comm world;
  for (const std::string family : {"transformer", "meshgraphnet"}) {
    INFO(family << " on " << world.size() << " ranks");
    io::Deck d = make_deck(schema, family);
    train::Trainer serial(train::mesh_sim_options(d), nullptr, Comm::self()),
        dist(train::mesh_sim_options(d), nullptr, world);
    check_same_training(serial, dist, 4);

    // Partitioned rollout (halo refreshed every step) equals the single-process rollout of the
    // same model.
    {
      auto whole = train::rollout(serial.model(), serial.normalizers(), serial.train_data()[0], 7);
      auto parted = train::rollout(serial.model(), serial.normalizers(), dist.train_data()[0], 7, world);
      REQUIRE(parted.predicted.sizes() == whole.predicted.sizes());
      INFO("rollout max diff " << (parted.predicted - whole.predicted).abs().max().item<double>());
      CHECK(at::allclose(parted.predicted, whole.predicted, 1e-5, 1e-6));
      for (size_t k = 0; k < whole.rmse.size(); ++k) CHECK(parted.rmse[k] == Approx(whole.rmse[k]).epsilon(1e-4));
    }

    // A checkpoint is independent of the rank count.
    io::Deck d2 = make_deck(schema, family, {"train.steps=2"});
    train::Trainer half_dist(train::mesh_sim_options(d2), nullptr, world);
    half_dist.step();
    half_dist.step();
    const std::string ck_dist = out_dir() + "/" + family + "_dist.h5";
    half_dist.save(ck_dist);
    train::Trainer half_serial(train::mesh_sim_options(d2), nullptr, Comm::self());
    half_serial.step();
    half_serial.step();
    const std::string ck_serial = out_dir() + "/" + family + "_serial_r" + std::to_string(world.rank()) + ".h5";
    half_serial.save(ck_serial);
    io::Deck from_dist = make_deck(schema, family, {"train.resume=" + ck_dist});
    io::Deck from_serial = make_deck(schema, family, {"train.resume=" + ck_serial});
    train::Trainer resumed_serial(train::mesh_sim_options(from_dist), nullptr, Comm::self()),
        resumed_dist(train::mesh_sim_options(from_serial), nullptr, world);
    CHECK(resumed_serial.steps_done() == 2);
    CHECK(resumed_dist.steps_done() == 2);
    resumed_serial.step();
    resumed_serial.step();
    resumed_dist.step();
    resumed_dist.step();
    check_same_parameters(serial, resumed_serial, 1e-4);
    check_same_parameters(serial, resumed_dist, 1e-4);

    // At np = 3: resume from the checkpoint the np = 2 run wrote (ctest orders np2 first).
    const std::string from_np2 = tessera::test::test_out() + "/dist_train_np2/" + family + "_dist.h5";
    if (world.size() == 3) {
      REQUIRE(std::filesystem::exists(from_np2));
      io::Deck d3 = make_deck(schema, family, {"train.resume=" + from_np2});
      train::Trainer resumed3(train::mesh_sim_options(d3), nullptr, world);
      resumed3.step();
      resumed3.step();
      check_same_parameters(serial, resumed3, 1e-4);
    }
  }
}

TEST_CASE("data-parallel training equals single-process training", "[mpi][train]") {
  const io::Schema& schema = train_schema();
  Comm world;
  for (const std::string family : {"transformer", "meshgraphnet"}) {
    INFO(family << " on " << world.size() << " ranks");
    io::Deck d = make_deck(schema, family, {"train.parallel=data", "train.batch=3"});
    train::Trainer serial(train::mesh_sim_options(d), nullptr, Comm::self()),
        dist(train::mesh_sim_options(d), nullptr, world);
    check_same_training(serial, dist, 4);
    CHECK_FALSE(dist.train_data()[0].partitioned());
  }
}

TEST_CASE("pushforward training equals single-process training", "[mpi][train]") {
  // The model's own predictions as inputs: graph-parallel needs its halo refreshed after them.
  const io::Schema& schema = train_schema();
  Comm world;
  for (const std::string parallel : {"graph", "data"}) {
    INFO(parallel << "-parallel on " << world.size() << " ranks");
    io::Deck d =
        make_deck(schema, "transformer", {"train.parallel=" + parallel, "train.pushforward=1", "train.batch=3"});
    train::Trainer serial(train::mesh_sim_options(d), nullptr, Comm::self()),
        dist(train::mesh_sim_options(d), nullptr, world);
    check_same_training(serial, dist, 4);
  }
}

TEST_CASE("unrolled training equals single-process training", "[mpi][train]") {
  // k = 3 steps per sample: graph-parallel refreshes the halo between the pushed-forward steps
  // (loss on the last step only); data-parallel also takes the gradient through two steps.
  const io::Schema& schema = train_schema();
  Comm world;
  for (const std::string parallel : {"graph", "data"}) {
    INFO(parallel << "-parallel on " << world.size() << " ranks");
    const std::string grad = parallel == "graph" ? "1" : "2";
    io::Deck d =
        make_deck(schema, "transformer",
                  {"train.parallel=" + parallel, "train.unroll=3", "train.unroll_grad=" + grad, "train.batch=3"});
    train::Trainer serial(train::mesh_sim_options(d), nullptr, Comm::self()),
        dist(train::mesh_sim_options(d), nullptr, world);
    // Three chained passes carry more summation-order noise into Adam than one: 4.2e-6 on an
    // AVX-512 EPYC (whose MKL kernels split the partitioned and whole products differently), under
    // 1e-6 on an AVX2-only one.
    check_same_training(serial, dist, 4, 1e-5);
  }
  // Refused at any rank count (it was refused only from np = 2 on; one process ran the deck).
  io::Deck bad = make_deck(schema, "transformer", {"train.parallel=graph", "train.unroll=3", "train.unroll_grad=2"});
  CHECK_THROWS_WITH(train::mesh_sim_training_options(bad),
                    Catch::Contains("train.unroll_grad: > 1 needs train.parallel: data"));
  CHECK_NOTHROW(train::mesh_sim_options(bad));  // a checkpoint's stored deck like it still loads
  if (world.size() > 1)                         // the Trainer's own check, for library callers
    CHECK_THROWS_WITH(train::Trainer(train::mesh_sim_options(bad), nullptr, world),
                      Catch::Contains("train.unroll_grad > 1 needs train.parallel: data"));
}

TEST_CASE("temporal bundling: graph-parallel training and partitioned rollouts equal one process", "[mpi][train]") {
  // model.bundle = 3: three steps per forward pass; the halo is refreshed once per pass.
  const io::Schema& schema = train_schema();
  Comm world;
  io::Deck d = make_deck(schema, "transformer", {"model.bundle=3", "train.unroll=2"});
  train::Trainer serial(train::mesh_sim_options(d), nullptr, Comm::self()),
      dist(train::mesh_sim_options(d), nullptr, world);
  check_same_training(serial, dist, 3, 3e-5);
  auto whole = train::rollout(serial.model(), serial.normalizers(), serial.train_data()[0], 7);
  auto parted = train::rollout(serial.model(), serial.normalizers(), dist.train_data()[0], 7, world);
  REQUIRE(parted.predicted.sizes() == whole.predicted.sizes());
  CHECK(whole.predicted.size(0) == 8);
  INFO("rollout max diff " << (parted.predicted - whole.predicted).abs().max().item<double>());
  CHECK(at::allclose(parted.predicted, whole.predicted, 1e-5, 1e-6));
}

TEST_CASE("a halo that covers the whole graph is named", "[mpi][train]") {
  // A 24 x 8 grid (225 nodes), 2 hops: without mask edges each rank holds part of the graph; with jumps
  // (half as many as mesh edges) the 2 hops reach every node.
  Comm world;
  const io::Trajectory traj = test::synthetic_trajectory(24, 8, 3, 0.1, 0.0);
  mesh::AugmentOptions plain, jumps;
  jumps.jump_fraction = 0.5;
  const auto local = train::prepare_trajectory(traj, plain, "plain", world, 2);
  const auto far = train::prepare_trajectory(traj, jumps, "jumps", world, 2);
  INFO(world.size() << " ranks: " << local.nodes() << " and " << far.nodes() << " of " << local.global_nodes);
  CHECK(train::halo_coverage_warning(local, plain, 2, "do X").empty());
  if (world.size() == 1) {
    CHECK(train::halo_coverage_warning(far, jumps, 2, "do X").empty());  // not partitioned
  } else {
    CHECK(local.nodes() < 0.9 * local.global_nodes);
    CHECK(far.nodes() == far.global_nodes);
    const std::string w = train::halo_coverage_warning(far, jumps, 2, "do X");
    CHECK_THAT(w, Catch::Contains(std::to_string(far.global_nodes) + " of the " + std::to_string(far.global_nodes)) &&
                      Catch::Contains("long-range mask edges of augment.*") && Catch::EndsWith("do X"));
  }
}
