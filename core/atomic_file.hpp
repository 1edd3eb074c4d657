// Atomic output: everything tessera writes goes to a temporary name beside the target and is
// renamed into place once complete, so an interrupted run never leaves a truncated file.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tessera::core {

// The temporary name for `path` (same directory, so rename is atomic): "<path>.tmp".
// Deterministic, so that all MPI ranks writing one file collectively agree on it.
std::string temp_path(const std::string& path);

// Renames temp_path(path) to path (creating nothing else). Throws on failure, having removed
// the temporary.
void commit_temp(const std::string& path);
// The same for a temporary of another name (Gmsh and VTK's parallel writer choose the name's end).
void commit_temp(const std::string& temp, const std::string& path);

// A temporary output (a file, or a staging folder) that is removed when this goes out of scope
// before keep(): a write that fails half-way (a full disk, a writer's error) leaves no temporary
// behind. In a collective write every rank holds one and only the owner (the root) removes it.
// An owner's temporary file is also listed for remove_temporaries_on_interrupt.
class TemporaryOutput {
 public:
  explicit TemporaryOutput(std::string path, bool owner = true);
  ~TemporaryOutput();
  TemporaryOutput(const TemporaryOutput&) = delete;
  TemporaryOutput& operator=(const TemporaryOutput&) = delete;
  const std::string& path() const { return path_; }
  void keep();  // moved into place: nothing to remove

 private:
  std::string path_;
  bool owner_, kept_ = false;
  int slot_ = -1;  // its entry in the list of temporaries a signal removes; -1: not listed
};

// Installs handlers for SIGINT, SIGTERM and SIGHUP that remove this process's unfinished
// temporary files (those of live TemporaryOutputs), print one line naming `program` and the
// signal, and then end the process by the signal as before (exit status 128 + signal). Without
// them an interrupted run left its half-written `<name>.tmp` files behind. Under MPI, `rank`
// other than 0 prints only when it removed files: mpirun passes a SIGTERM on to every rank, and
// each printed the same line (128 lines at np = 128). With `ranks` > 1, a signal sent by the
// parent process (the launcher) is said to be the launcher's: mpirun also ends every rank so when
// one rank fails alone.
void remove_temporaries_on_interrupt(const std::string& program, int rank = 0, int ranks = 1);
// A path that those handlers remove without a word, after the unfinished outputs: a claim's lock
// file, and the folders the claim made, which go only while empty (core/output_claim.hpp; an
// interrupted run left them behind). Returns a handle for unlist_on_interrupt, -1 when the list is
// full (the path then stays behind, as before).
int remove_quietly_on_interrupt(const std::string& path);
void unlist_on_interrupt(int handle);
// After the run has reported how it ended (an error line, every rank exiting): an interrupt says
// nothing unless it removes files. Under mpirun, the launcher ends the other ranks with SIGTERM
// when one exits non-zero first, and each printed "interrupted by SIGTERM" after the error line.
void quiet_interrupts();

// Writes `size` bytes to `path` (created or truncated), not atomically: for a temporary name. A
// failure (a full disk) throws with the system's reason; the partial file is the caller's to remove.
void write_file(const std::string& path, const void* data, size_t size);

// Writes text atomically.
void write_text_atomic(const std::string& path, const std::string& text);
// The same for a text that `pieces` hands over a piece at a time (it calls its argument with each
// piece, in order), so that a long one is never held whole: a series index of 10^5 steps is 90 MB.
using TextPieces = std::function<void(const std::function<void(std::string_view)>&)>;
void write_text_atomic(const std::string& path, const TextPieces& pieces);
// Appends text to the existing file `path` (a table that grows with a run, where rewriting it
// whole at every save costs the square of its length). False when there is no such file; a
// failed write (a full disk) throws and cuts the file back to its length before, so that it holds
// no part of a row. Not atomic against a kill during the write, which may leave a part of the
// text at the end: readers of such files ignore an unfinished last line (train/loop.cpp).
bool append_text(const std::string& path, const std::string& text);
// The same where other processes may write the same text to `path` at the same time (a folder's
// meta.json, written by the part writer of every rank of the dataset job): through a temporary of
// this process's own, "<path>.<pid>.tmp", so that one process's rename cannot take another's
// temporary from under it.
void write_shared_text_atomic(const std::string& path, const std::string& text);

// Creates the parent directory of `path` if needed.
void ensure_parent_dir(const std::string& path);

}  // namespace tessera::core
