// Training and rollouts on a GPU against the same runs on the CPU: train.device, bf16 mixed
// precision, checkpoints moving between devices. Exits with 77 (ctest: skipped) without a GPU.
#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "io/deck.hpp"
#include "tests/synthetic_flow.hpp"
#include "tests/test_paths.hpp"
#include "train/evaluate.hpp"
#include "train/mesh_sim_family.hpp"
#include "train/trainer.hpp"

using namespace tessera;

namespace {

struct SkipWithoutGpu {
  SkipWithoutGpu() {
    if (!at::hasCUDA()) {
      std::cout << "no CUDA device: skipping GPU training tests\n";
      std::exit(77);
    }
  }
} skip_without_gpu;

const std::string out = tessera::test::test_out() + "/train_cuda";

io::Deck make_deck(const std::string& family, const std::vector<std::string>& extra) {
  static const io::Schema schema = [] {
    io::Schema s("tessera-train");
    train::add_training_keys(s, train::mesh_sim_families());
    return s;
  }();
  static const std::string data = [] {
    std::filesystem::remove_all(out + "/data");
    test::write_synthetic_dataset(out + "/data", 3, 1);
    return out + "/data";
  }();
  std::vector<std::string> ov{"data.dir=" + data, "model.family=" + family, "train.steps=100",
                              "model.latent=16",  "model.layers=2",         "train.warmup=2",
                              "train.lr=3e-3",    "train.noise_std=0.01",   "output.dir=" + out};
  ov.insert(ov.end(), extra.begin(), extra.end());
  return io::Deck::parse("{}", "test.yaml", schema, ov);
}

}  // namespace

TEST_CASE("training on cuda follows training on cpu", "[train][cuda]") {
  for (const std::string family : {"transformer", "meshgraphnet"}) {
    INFO(family);
    const io::Deck dc = make_deck(family, {"train.device=cpu"}), dg = make_deck(family, {"train.device=cuda"});
    train::Trainer cpu(train::mesh_sim_options(dc), nullptr), gpu(train::mesh_sim_options(dg), nullptr);
    REQUIRE(gpu.model().module().parameters()[0].is_cuda());
    for (int s = 0; s < 5; ++s) {
      const double lc = cpu.step(), lg = gpu.step();
      INFO("step " << s);
      CHECK(lg == Approx(lc).epsilon(1e-4));  // same parameters, samples and noise (drawn on the host)
    }
    auto pc = cpu.model().module().named_parameters(), pg = gpu.model().module().named_parameters();
    for (const auto& p : pc) {
      at::Tensor g = pg[p.key()].cpu();
      INFO(p.key() << " max diff " << (p.value() - g).abs().max().item<double>());
      CHECK(at::allclose(p.value(), g, 1e-3, 1e-5));
    }
    // Rollouts: the trained GPU model on its device against the same weights on the host.
    const auto& t = gpu.train_data()[0];
    auto rg = train::rollout(gpu.model(), gpu.normalizers(), t, 10);
    REQUIRE_FALSE(rg.predicted.is_cuda());
    gpu.model().module().to(at::kCPU);
    auto rc = train::rollout(gpu.model(), gpu.normalizers(), t.to(at::kCPU), 10);
    CHECK(at::allclose(rg.predicted, rc.predicted, 1e-4, 1e-5));
  }
}

TEST_CASE("bf16 mixed precision on cuda trains like fp32", "[train][cuda][amp]") {
  for (const std::string family : {"transformer", "meshgraphnet"}) {
    INFO(family);
    const io::Deck d32 = make_deck(family, {"train.device=cuda", "train.noise_std=0"});
    const io::Deck d16 = make_deck(family, {"train.device=cuda", "train.noise_std=0", "train.precision=bf16"});
    train::Trainer fp32(train::mesh_sim_options(d32), nullptr), bf16(train::mesh_sim_options(d16), nullptr);
    std::vector<double> a, b;
    for (int i = 0; i < 100; ++i) {
      a.push_back(fp32.step());
      b.push_back(bf16.step());
    }
    INFO("step 1 losses: fp32 " << a[0] << ", bf16 " << b[0]);
    CHECK(std::abs(b[0] - a[0]) > 0);  // autocast was on
    CHECK(std::abs(b[0] - a[0]) < 0.05 * a[0]);
    double la = 0, lb = 0;
    for (int i = 90; i < 100; ++i) la += a[i] / 10, lb += b[i] / 10;
    INFO("mean loss of steps 91-100: fp32 " << la << ", bf16 " << lb);
    CHECK(lb < 0.5 * b[0]);
    CHECK(std::abs(lb - la) < 0.25 * la);
  }
}

TEST_CASE("a checkpoint written on cuda resumes on cpu and back", "[train][cuda][checkpoint]") {
  const io::Deck dg = make_deck("transformer", {"train.device=cuda", "train.steps=6"});
  train::Trainer gpu(train::mesh_sim_options(dg), nullptr);
  for (int i = 0; i < 3; ++i) gpu.step();
  gpu.save(out + "/gpu.h5");
  const io::Deck dc =
      make_deck("transformer", {"train.device=cpu", "train.steps=6", "train.resume=" + out + "/gpu.h5"});
  train::Trainer cpu(train::mesh_sim_options(dc), nullptr);
  CHECK(cpu.steps_done() == 3);
  auto pg = gpu.model().module().named_parameters(), pc = cpu.model().module().named_parameters();
  for (const auto& p : pg) CHECK(at::equal(p.value().cpu(), pc[p.key()]));
  cpu.save(out + "/cpu.h5");
  const io::Deck dg2 =
      make_deck("transformer", {"train.device=cuda", "train.steps=6", "train.resume=" + out + "/cpu.h5"});
  train::Trainer back(train::mesh_sim_options(dg2), nullptr);
  // Continuing on the GPU from either checkpoint gives the same steps.
  for (int i = 0; i < 3; ++i) {
    const double on_cpu = back.step(), on_gpu = gpu.step();
    CHECK(on_cpu == Approx(on_gpu).epsilon(1e-6));
  }
}
