// The claims run_app makes on a run's output files (core/output_claim.hpp) from what its AppSpec
// says the run writes, and the words it reports them with.
#pragma once
#include <string>
#include <vector>

#include "apps/app.hpp"
#include "core/output_claim.hpp"

namespace tessera::apps {

// Claims every output of `spec` for this deck in `claims` (on rank 0). Returns "" when all hold,
// else the one error line (located at the folder's key); `notes` receives warnings for the log
// (a file system that takes no locks, a killed run's temporaries removed).
std::string claim_outputs(const io::Deck& deck, const AppSpec& spec, core::OutputClaims& claims,
                          std::vector<std::string>& notes);

}  // namespace tessera::apps
