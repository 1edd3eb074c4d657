#include "train/trained_on.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/counted.hpp"
#include "core/error.hpp"

namespace tessera::train {

int64_t TrainedOn::position(const std::string& fingerprint) const {
  const auto it = std::find(fingerprints.begin(), fingerprints.end(), fingerprint);
  return it == fingerprints.end() || fingerprint.empty() ? -1 : it - fingerprints.begin();
}

TrainedOn trained_on(const std::string& source, const std::vector<TrajectoryData>& trajectories) {
  TrainedOn t{source, {}};
  for (const auto& d : trajectories) t.fingerprints.push_back(d.fingerprint);
  return t;
}

// The fingerprints as a tensor of their values: as one text attribute they ran past HDF5's 64 KiB
// limit on an attribute at 7,282 trajectories.
void put_trained_on(Checkpoint& c, const TrainedOn& t) {
  std::vector<int64_t> values;
  for (const auto& f : t.fingerprints) values.push_back(static_cast<int64_t>(std::stoull(f, nullptr, 16)));
  c.attributes["trained_on.source"] = t.source;
  c.tensors["trained_on.fingerprints"] = at::tensor(at::ArrayRef<int64_t>(values), at::kLong);
}

TrainedOn stored_trained_on(const Checkpoint& c, const std::string& path) {
  TrainedOn t;
  const auto list = c.tensors.find("trained_on.fingerprints");
  if (list == c.tensors.end()) return t;
  if (const auto s = c.attributes.find("trained_on.source"); s != c.attributes.end()) t.source = s->second;
  const at::Tensor& v = list->second;
  if (v.scalar_type() != at::kLong || v.dim() != 1)
    throw Error(cat(path,
                    ": checkpoint tensor trained_on.fingerprints is not a list of whole numbers; the "
                    "checkpoint is damaged"));
  for (int64_t i = 0; i < v.size(0); ++i) {
    const int64_t f = v[i].item<int64_t>();
    if (f < 0 || f > 0xffffffffLL)
      throw Error(cat(path, ": checkpoint tensor trained_on.fingerprints holds ", f,
                      ", not a fingerprint (a 32-bit CRC); the checkpoint is damaged"));
    char text[9];
    std::snprintf(text, sizeof text, "%08llx", static_cast<unsigned long long>(f));
    t.fingerprints.push_back(text);
  }
  return t;
}

std::string other_data_error(const std::string& path, const TrainedOn& stored, const TrainedOn& now) {
  if (!stored.known() || stored.fingerprints == now.fingerprints) return {};
  const size_t n = std::min(stored.fingerprints.size(), now.fingerprints.size());
  size_t first = 0;
  while (first < n && stored.fingerprints[first] == now.fingerprints[first]) ++first;
  const std::string how =
      first < n
          ? cat("its training trajectory #", first, " differs")
          : cat("it holds ", core::counted(now.fingerprints.size(), "training trajectory", "training trajectories"),
                " where the run had ", stored.fingerprints.size());
  return cat(path, ": this run was trained on ",
             core::counted(stored.fingerprints.size(), "trajectory", "trajectories"), " of ", stored.source, "; ",
             now.source, " holds other data (", how,
             "); a resume continues the same run on the same data (to train on other data, fine-tune from the "
             "checkpoint with train.init)");
}

std::string trained_on_warning(const TrainedOn& t, const std::string& file, const std::vector<int64_t>& ids,
                               const std::vector<int64_t>& positions) {
  std::string which, where;
  size_t count = 0;
  for (size_t i = 0; i < ids.size() && i < positions.size(); ++i) {
    if (positions[i] < 0) continue;
    which += cat(count ? ", #" : "#", ids[i]);
    where += cat(count ? ", #" : "#", positions[i]);
    ++count;
  }
  if (count == 0) return {};
  return cat(file, " ", which, count == 1 ? " is training trajectory " : " are training trajectories ", where,
             " of the model (trained on ", t.source, "): ", count == 1 ? "its" : "their",
             " errors show how well the model fits data it has seen, not how it does on trajectories it has not");
}

std::string trajectory_trained_on_warning(const TrainedOn& t, const std::string& file, int64_t id,
                                          const std::string& fingerprint) {
  return trained_on_warning(t, file, std::vector<int64_t>{id}, std::vector<int64_t>{t.position(fingerprint)});
}

}  // namespace tessera::train
