#include "train/pinn/family.hpp"

#include "io/deck.hpp"
#include "train/pinn/evaluation.hpp"
#include "train/pinn/learner.hpp"
#include "train/pinn/options.hpp"
#include "train/pinn/study.hpp"

namespace tessera::train {

Family pinn_family() {
  Family f;
  f.name = "pinn";
  f.summary = "Eulerian and Lagrangian PINNs for 1D periodic advection, convection-diffusion and Burgers";
  f.add_keys = pinn::add_pinn_keys;
  f.make_learner = [](const io::Deck& d, const RunContext& ctx) -> std::unique_ptr<Learner> {
    const std::vector<pinn::PinnOptions> cases = pinn::study_cases(pinn::read_pinn_study(d));
    if (cases.size() != 1) d.fail("pinn.sweep.parameter", "a sweep has several learners; train it with Family::train");
    return std::make_unique<pinn::PinnLearner>(cases.front(), ctx.log);
  };
  f.train = [](const io::Deck& d, const RunContext& ctx) {
    pinn::run_study(pinn::read_pinn_study(d), loop_options(d), ctx);
  };
  // tessera-rollout: the network on another grid and to a later time (train/pinn/evaluation.hpp).
  f.add_eval_keys = pinn::add_pinn_evaluation_keys;
  f.prepare_evaluation = [](const io::Deck& d) -> std::function<void(const RunContext&)> {
    return [o = pinn::read_pinn_evaluation_options(d)](const RunContext& ctx) {
      pinn::run_pinn_evaluation(o, ctx.comm, ctx.log);
    };
  };
  f.eval_reads_steps = false;
  f.threads_key = "pinn.threads";
  return f;
}

}  // namespace tessera::train
