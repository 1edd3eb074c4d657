// The first setting in which two resolved decks differ (a checkpoint's stored deck and this run's),
// among the keys under given sections: what a resume must keep to continue the same run.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace tessera::io {

struct DeckDifference {
  std::string key;     // e.g. "model.heads"
  std::string stored;  // its value in the stored deck (a list or map in YAML flow form)
  std::string now;     // its value in this deck
};

// Keys under any of `sections` ("model", "train", ...; every key where it is empty), in the order
// of `deck_yaml`; the values of keys in `ignored` are not compared. Keys the stored deck lacks
// (added to the schema after it was written) are not compared either, unless `absent_differs`:
// then a key that one deck has and the other lacks is a difference, ignored or not, its value
// there "(not set)" (two ranks' decks, run_app: input paths may differ, not be given on one rank
// alone). Throws Error if either text is not a YAML map.
std::optional<DeckDifference> first_deck_difference(const std::string& stored_yaml, const std::string& deck_yaml,
                                                    const std::vector<std::string>& sections,
                                                    const std::vector<std::string>& ignored,
                                                    bool absent_differs = false);

}  // namespace tessera::io
