// tessera-cfd's options layer (jobs/cfd_options): a deck read once into typed options, the checks
// that span keys located at the deck line, and the dataset's reproducible parameter draws.
#include <catch2/catch.hpp>
#include <string>

#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/mesh_deck.hpp"
#include "jobs/cfd_options.hpp"
#include "jobs/flow_sample.hpp"

using namespace tessera;

namespace {

io::Deck cfd_deck(const std::string& yaml) {
  static const io::Schema schema = [] {
    io::Schema s("tessera-cfd");
    io::add_mesh_keys(s);
    jobs::add_case_keys(s);
    jobs::add_dataset_keys(s);
    return s;
  }();
  return io::Deck::parse(yaml, "deck.yaml", schema);
}

}  // namespace

TEST_CASE("case options: defaults, the resolved reference velocity, cross-key checks", "[cfd]") {
  const jobs::CaseOptions o = jobs::case_options(cfd_deck("flow:\n  inflow:\n    speed: 0.3\n"));
  CHECK(o.forces.reference_velocity == Approx(0.2));  // 2/3 of the parabola's peak
  CHECK(o.flow.flow.force_group == "cylinder");
  CHECK(o.flow.linear.refactor_every == 5);
  CHECK(o.time.steady);
  CHECK(o.output.base() == "out/cfd/flow");
  CHECK(o.output.deck_yaml.find("pressure_points") != std::string::npos);

  const auto uniform = jobs::case_options(cfd_deck("flow:\n  inflow: {profile: uniform, speed: 0.5}\n"));
  CHECK(uniform.forces.reference_velocity == 0.5);
  CHECK_THROWS_WITH(
      jobs::case_options(cfd_deck("job: case\nforces:\n  reference_velocity: 0\nflow:\n  inflow:\n"
                                  "    speed: 0\n")),
      "deck.yaml:3: forces.reference_velocity: is 0 and so is the inflow speed: give a reference velocity");
  CHECK(jobs::job_options(cfd_deck("job: dataset\n")).kind == jobs::JobOptions::Kind::Dataset);
}

TEST_CASE("dataset options: splits, range checks, reproducible draws", "[cfd]") {
  const jobs::DatasetOptions o = jobs::dataset_options(cfd_deck("job: dataset\ndataset:\n  train: 3\n  valid: 0\n"));
  REQUIRE(o.splits.size() == 2);
  CHECK(o.splits[0].name == "train");
  CHECK(o.splits[1].name == "test");
  CHECK(o.splits[1].begin == 3);
  CHECK(o.total() == 8);
  for (int64_t i = 0; i < o.total(); ++i) {
    const jobs::FlowSample s = jobs::draw_sample(o, i), again = jobs::draw_sample(o, i);
    CHECK(s.radius == again.radius);
    CHECK(s.radius >= o.ranges.radius[0]);
    CHECK(s.radius <= o.ranges.radius[1]);
    CHECK(jobs::fingerprint(o, s) == jobs::fingerprint(o, again));
  }
  CHECK(jobs::draw_sample(o, 0).center_x != jobs::draw_sample(o, 1).center_x);

  CHECK_THROWS_WITH(jobs::dataset_options(cfd_deck("dataset:\n  ranges:\n    radius: [0.07, 0.03]\n")),
                    "deck.yaml:3: dataset.ranges.radius: expected [min, max] with min <= max");
  CHECK_THROWS_WITH(jobs::dataset_options(cfd_deck("dataset:\n  train: 0\n  valid: 0\n  test: 0\n")),
                    Catch::Contains("dataset.train: dataset.train, dataset.valid and dataset.test are all 0"));
  CHECK_THROWS_WITH(jobs::dataset_options(cfd_deck("dataset:\n  ranges:\n    radius: [0.3, 0.4]\n")),
                    Catch::Contains("dataset.ranges: trajectory 0 draws a cylinder"));
}
