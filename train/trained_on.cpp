#include "train/trained_on.hpp"

#include <algorithm>
#include <sstream>

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

void put_trained_on(Checkpoint& c, const TrainedOn& t) {
  std::string list;
  for (const auto& f : t.fingerprints) list += (list.empty() ? "" : " ") + f;
  c.attributes["trained_on.source"] = t.source;
  c.attributes["trained_on.fingerprints"] = list;
}

TrainedOn stored_trained_on(const Checkpoint& c, const std::string& path) {
  TrainedOn t;
  const auto list = c.attributes.find("trained_on.fingerprints");
  if (list == c.attributes.end()) return t;
  if (const auto s = c.attributes.find("trained_on.source"); s != c.attributes.end()) t.source = s->second;
  std::istringstream in(list->second);
  for (std::string f; in >> f;) {
    if (f.size() != 8 || f.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw Error(cat(path, ": checkpoint attribute trained_on.fingerprints holds '", f,
                      "', not a fingerprint (8 hex digits); the checkpoint is damaged"));
    t.fingerprints.push_back(f);
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

}  // namespace tessera::train
