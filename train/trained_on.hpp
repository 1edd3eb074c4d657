// The trajectories a mesh simulator was trained on, recorded in its checkpoints by fingerprint
// (io/fingerprint.hpp): a resume on other data is refused (data.dir may move, its data may not
// change), and a rollout of a training trajectory says that its errors measure the fit to data
// the model has seen (docs/design.md, "What a checkpoint was trained on").
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "train/checkpoint.hpp"
#include "train/mesh_data.hpp"

namespace tessera::train {

struct TrainedOn {
  std::string source;                     // the training split's file, "<data.dir>/<split>.h5"
  std::vector<std::string> fingerprints;  // one per training trajectory, in the order loaded (#0, #1, ...)
  // The data of the checkpoints it was fine-tuned from (train.init), nearest first, each with an
  // empty `before`: a fine-tuned model has seen those trajectories too.
  std::vector<TrainedOn> before = {};

  bool known() const { return !fingerprints.empty(); }
  // The position of the training trajectory with this fingerprint: among its own (0 .. n - 1),
  // then those of `before` in turn, numbered on from n; -1 when none has it. where() splits it.
  int64_t position(const std::string& fingerprint) const;
  // The generation (0: its own data, 1: the checkpoint it was fine-tuned from, ...) and the
  // position in that generation's list, of a position() >= 0.
  std::pair<size_t, int64_t> where(int64_t position) const;
  // What a model fine-tuned from this one records as its `before`: this record's own data (when
  // known), then its `before`.
  std::vector<TrainedOn> lineage() const;
};

TrainedOn trained_on(const std::string& source, const std::vector<TrajectoryData>& trajectories);
// Attribute "trained_on.source" and tensor "trained_on.fingerprints" (the CRCs as int64); for each
// generation k of `before`, "trained_on.before.<k>.source" and "trained_on.before.<k>.fingerprints".
void put_trained_on(Checkpoint& c, const TrainedOn& t);
// What checkpoint `c` (read from `path`) records; unknown for checkpoints before 2026-12-06.
// Throws naming `path` when the record is damaged.
TrainedOn stored_trained_on(const Checkpoint& c, const std::string& path);

// Why a resume of checkpoint `path`, trained on `stored`, cannot go on with `now`: empty when
// they hold the same trajectories in the same order, or `stored` is unknown.
std::string other_data_error(const std::string& path, const TrainedOn& stored, const TrainedOn& now);

// A warning that trajectories `ids` of `file` (a rollout's), found at `positions` (TrainedOn::
// position; -1: not among them) of the model's training trajectories or of the models it was
// fine-tuned from, were trained on; empty when none was.
std::string trained_on_warning(const TrainedOn& t, const std::string& file, const std::vector<int64_t>& ids,
                               const std::vector<int64_t>& positions);
// The same for one trajectory, `id` of `file`, whose fingerprint is `fingerprint` (another name than
// an overload: a call of the list form with {4}, {2} would take {2} for a string).
std::string trajectory_trained_on_warning(const TrainedOn& t, const std::string& file, int64_t id,
                                          const std::string& fingerprint);

}  // namespace tessera::train
