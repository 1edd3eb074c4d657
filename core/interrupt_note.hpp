// A note the interrupt line adds (remove_temporaries_on_interrupt, core/atomic_file.hpp): what an
// interrupted run leaves that the user can go on from, e.g. its last checkpoint. "tessera-train:
// interrupted by SIGTERM" alone left the user to find it.
#pragma once
#include <string>

namespace tessera::core {

// Replaces the note (at most 511 bytes are kept; "" removes it). Call from one thread; the
// signal handler reads it without allocating.
void set_interrupt_note(const std::string& note);
// The note now ("" when none): a failed training's error adds it too (train::run_training), since
// a run that fails (a full disk, a diverged step) leaves the same checkpoint to go on from as one
// that is interrupted.
std::string interrupt_note();

}  // namespace tessera::core
