#include "train/stagger/family.hpp"

#include "io/deck.hpp"
#include "train/stagger/evaluation.hpp"
#include "train/stagger/learner.hpp"
#include "train/stagger/options.hpp"

namespace tessera::train {

Family stagger_family() {
  Family f;
  f.name = "stagger";
  f.summary =
      "NeuralStagger: s x s staggered and T temporal coarse CNN solvers of 2D periodic Navier-Stokes, trained on "
      "the physics residual only";
  f.add_keys = stagger::add_stagger_keys;
  f.make_learner = [](const io::Deck& d, const RunContext& ctx) -> std::unique_ptr<Learner> {
    const stagger::StaggerOptions o = stagger::read_stagger_options(d);
    return std::make_unique<stagger::StaggerLearner>(o, ctx.comm, ctx.log);
  };
  f.add_eval_keys = stagger::add_stagger_rollout_keys;
  f.prepare_evaluation = [](const io::Deck& d) -> std::function<void(const RunContext&)> {
    return [o = stagger::read_stagger_rollout_options(d)](const RunContext& ctx) {
      stagger::run_stagger_rollout(o, ctx.comm, ctx.log);
    };
  };
  f.threads_key = f.eval_threads_key = "stagger.threads";
  return f;
}

}  // namespace tessera::train
