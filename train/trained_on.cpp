#include "train/trained_on.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/counted.hpp"
#include "core/error.hpp"

namespace tessera::train {

int64_t TrainedOn::position(const std::string& fingerprint) const {
  if (fingerprint.empty()) return -1;
  int64_t offset = 0;
  for (size_t g = 0; g <= before.size(); ++g) {
    const std::vector<std::string>& list = g == 0 ? fingerprints : before[g - 1].fingerprints;
    if (const auto it = std::find(list.begin(), list.end(), fingerprint); it != list.end())
      return offset + (it - list.begin());
    offset += static_cast<int64_t>(list.size());
  }
  return -1;
}

std::pair<size_t, int64_t> TrainedOn::where(int64_t position) const {
  for (size_t g = 0; g <= before.size(); ++g) {
    const int64_t n = static_cast<int64_t>((g == 0 ? fingerprints : before[g - 1].fingerprints).size());
    if (position < n) return {g, position};
    position -= n;
  }
  return {before.size() + 1, position};  // past the end: no generation
}

std::vector<TrainedOn> TrainedOn::lineage() const {
  std::vector<TrainedOn> all;
  if (known()) all.push_back({source, fingerprints, {}});
  all.insert(all.end(), before.begin(), before.end());
  return all;
}

TrainedOn trained_on(const std::string& source, const std::vector<TrajectoryData>& trajectories) {
  TrainedOn t{source, {}};
  for (const auto& d : trajectories) t.fingerprints.push_back(d.fingerprint);
  return t;
}

namespace {

// The names of generation g's record: "trained_on" (its own data), "trained_on.before.<g - 1>".
std::string record_name(size_t g) { return g == 0 ? "trained_on" : cat("trained_on.before.", g - 1); }

void put_generation(Checkpoint& c, const std::string& name, const TrainedOn& t) {
  std::vector<int64_t> values;
  for (const auto& f : t.fingerprints) values.push_back(static_cast<int64_t>(std::stoull(f, nullptr, 16)));
  c.attributes[name + ".source"] = t.source;
  c.tensors[name + ".fingerprints"] = at::tensor(at::ArrayRef<int64_t>(values), at::kLong);
}

// The record `name` of `c`; false when it has none.
bool stored_generation(const Checkpoint& c, const std::string& path, const std::string& name, TrainedOn& t) {
  const auto list = c.tensors.find(name + ".fingerprints");
  if (list == c.tensors.end()) return false;
  if (const auto s = c.attributes.find(name + ".source"); s != c.attributes.end()) t.source = s->second;
  const at::Tensor& v = list->second;
  if (v.scalar_type() != at::kLong || v.dim() != 1)
    throw Error(cat(path, ": checkpoint tensor ", name,
                    ".fingerprints is not a list of whole numbers; the checkpoint is damaged"));
  for (int64_t i = 0; i < v.size(0); ++i) {
    const int64_t f = v[i].item<int64_t>();
    if (f < 0 || f > 0xffffffffLL)
      throw Error(cat(path, ": checkpoint tensor ", name, ".fingerprints holds ", f,
                      ", not a fingerprint (a 32-bit CRC); the checkpoint is damaged"));
    char text[9];
    std::snprintf(text, sizeof text, "%08llx", static_cast<unsigned long long>(f));
    t.fingerprints.push_back(text);
  }
  return true;
}

}  // namespace

// The fingerprints as a tensor of their values: as one text attribute they ran past HDF5's 64 KiB
// limit on an attribute at 7,282 trajectories.
void put_trained_on(Checkpoint& c, const TrainedOn& t) {
  put_generation(c, record_name(0), t);
  for (size_t g = 1; g <= t.before.size(); ++g) put_generation(c, record_name(g), t.before[g - 1]);
}

TrainedOn stored_trained_on(const Checkpoint& c, const std::string& path) {
  TrainedOn t;
  if (!stored_generation(c, path, record_name(0), t)) return t;
  for (size_t g = 1;; ++g) {
    TrainedOn earlier;
    if (!stored_generation(c, path, record_name(g), earlier)) break;
    t.before.push_back(std::move(earlier));
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
  // One clause per generation that holds some of them, the model's own first.
  std::string clauses;
  size_t count = 0;
  for (size_t g = 0; g <= t.before.size(); ++g) {
    std::string which, where;
    size_t here = 0;
    for (size_t i = 0; i < ids.size() && i < positions.size(); ++i) {
      if (positions[i] < 0 || t.where(positions[i]).first != g) continue;
      which += cat(here ? ", #" : "#", ids[i]);
      where += cat(here ? ", #" : "#", t.where(positions[i]).second);
      ++here;
    }
    if (here == 0) continue;
    const std::string model = g == 0   ? "the model"
                              : g == 1 ? "the model it was fine-tuned from"
                                       : cat("the model ", g, " fine-tunings before it");
    clauses +=
        cat(count ? "; " : "", file, " ", which, here == 1 ? " is training trajectory " : " are training trajectories ",
            where, " of ", model, " (trained on ", g == 0 ? t.source : t.before[g - 1].source, ")");
    count += here;
  }
  if (count == 0) return {};
  return cat(clauses, ": ", count == 1 ? "its" : "their",
             " errors show how well the model fits data it has seen, not how it does on trajectories it has not");
}

std::string trajectory_trained_on_warning(const TrainedOn& t, const std::string& file, int64_t id,
                                          const std::string& fingerprint) {
  return trained_on_warning(t, file, std::vector<int64_t>{id}, std::vector<int64_t>{t.position(fingerprint)});
}

}  // namespace tessera::train
