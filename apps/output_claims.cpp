#include "apps/output_claims.hpp"

#include <exception>

#include "core/error.hpp"

namespace tessera::apps {

std::vector<OutputClaim> named_outputs(const io::Deck& deck) {
  const std::string name = deck.get_file_name("output.name");
  return {{"output.dir", name, "output.name", {name + ".", name + "_"}}};
}

std::vector<OutputClaim> training_outputs(const io::Deck&) {
  return {{"output.dir",
           "training",
           "",
           {"checkpoint.", "loss.", "metrics.", "training.", "selected.", "errors.", "folds.", "summary.", "fields.",
            "plot."}}};
}

std::string claim_outputs(const io::Deck& deck, const AppSpec& spec, core::OutputClaims& claims,
                          std::vector<std::string>& notes) {
  try {
    for (const OutputClaim& c : spec.outputs(deck)) {
      const std::string dir = deck.get_output_dir(c.dir_key);
      // A folder or lock file that cannot be made is the folder key's error.
      const core::ClaimOutcome o =
          with_key(c.dir_key, [&] { return claims.claim(dir, c.name, spec.name, c.file_prefixes); });
      const std::string other = c.name_key.empty() ? c.dir_key : cat(c.dir_key, " or ", c.name_key);
      if (o.unsupported)
        notes.push_back(cat(c.dir_key, ": '", dir, "' ", o.refused,
                            ": a second run writing the same files there would not be stopped"));
      else if (!o.refused.empty())
        deck.fail(c.dir_key,
                  cat("'", dir, "' ", o.refused, ": two runs writing ",
                      c.name_key.empty() ? cat(c.name, " files") : cat("files named ", c.name, "*"),
                      " into one folder overwrite each other's; wait for that run to end, or choose another ", other));
      for (const std::string& t : o.removed_temporaries)
        notes.push_back(cat("removed ", t, ", an unfinished file of an earlier run that was killed"));
    }
  } catch (const Error& e) {
    return e.key().empty() ? std::string(e.what()) : deck.message_at(e.key(), e.what());
  } catch (const std::exception& e) {
    // Any other failure (a folder listing that fails half-way) is still one line: the other ranks
    // wait for this one's outcome.
    return cat("claiming the output files: ", e.what());
  }
  return "";
}

}  // namespace tessera::apps
