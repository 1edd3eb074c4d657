// Deck: a YAML input file validated against a Schema, with `--set a.b=value` overrides applied
// first and defaults filled in. Every error names the file and line (or the override) and what
// was expected, as one line.
#pragma once
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "io/schema.hpp"

namespace YAML {
class Node;
}

namespace tessera::io {

struct ParseOptions {
  // Drop keys of families other than the selected one instead of rejecting them (decks stored
  // in checkpoints by versions that kept every family's keys).
  bool drop_other_families = false;
  // The directory that relative input paths resolve against (empty: the deck's own). A deck
  // stored in a checkpoint resolves against the directory of the deck it was read from.
  std::string base_dir;
  // Refuse a deck with no keys at all (an empty or comment-only file: a wrong or truncated file
  // more often than a wish for every default, which `{}` states).
  bool refuse_empty = false;
};

// Whether `name` names a file inside a directory: letters, digits, _ - and . only, and not "." or
// "..", so that it cannot lead out of the directory or into a new one.
bool is_plain_file_name(const std::string& name);
// Throws an Error (no key) unless `dir` is a folder this process may write, or could be made as one
// (its nearest existing parent a writable folder): Deck::get_output_dir's check, for folders that
// no key names (a study's per-case folders).
void check_output_folder(const std::string& dir);

class Deck {
 public:
  // Loads `path`, applies overrides ("a.b=value", value parsed as YAML), validates, fills
  // defaults. Throws tessera::Error.
  static Deck load(const std::string& path, const Schema& schema, const std::vector<std::string>& overrides = {});
  // Same from YAML text (`name` stands for the file name in messages).
  static Deck parse(const std::string& text, const std::string& name, const Schema& schema,
                    const std::vector<std::string>& overrides = {}, const ParseOptions& options = {});

  // Copies clone the YAML trees, which loses their line marks; moves keep them.
  Deck(const Deck&);
  Deck& operator=(const Deck&);
  Deck(Deck&&) noexcept;
  Deck& operator=(Deck&&) noexcept;
  ~Deck();

  bool has(const std::string& path) const;  // false only for absent optional keys
  bool get_bool(const std::string& path) const;
  int64_t get_int(const std::string& path) const;
  // For counts stored in an int: a value beyond its range is refused at the key (4294967298 hops
  // were taken as 2).
  int get_int32(const std::string& path) const;
  double get_float(const std::string& path) const;
  std::string get_string(const std::string& path) const;
  // A string key that names a file inside a directory (output.name): is_plain_file_name.
  std::string get_file_name(const std::string& path) const;
  // A string key that names an output folder (relative to the working directory): refused unless
  // it is a folder this process may write, or could be made as one (its nearest existing parent
  // a writable folder). Apps check theirs before any work, so that a mistyped path is not found
  // only when the first file is written, minutes into a run (and under mpirun on one rank).
  std::string get_output_dir(const std::string& path) const;
  std::vector<double> get_floats(const std::string& path) const;
  std::vector<int64_t> get_ints(const std::string& path) const;
  std::vector<std::string> get_strings(const std::string& path) const;

  // The resolved deck (defaults filled) as YAML text: stored in output files. It begins with the
  // comment lines given to set_provenance (what produced the file: core::provenance_comment).
  std::string resolved_yaml() const;
  void set_provenance(std::string comment_lines) { provenance_ = std::move(comment_lines); }
  // The resolved deck without the keys that its other settings leave idle
  // (Schema::read_only_when; e.g. gnnpipe.parallel.stages in graph mode), which the start-up
  // echo listed among those the run reads: what this run reads, echoed by apps. `idle`, when
  // given, receives the number of keys left out; `also_idle`: further keys to leave out (known
  // to the app only, e.g. another family's rollout keys).
  std::string read_yaml(size_t* idle = nullptr, const std::vector<std::string>& also_idle = {}) const;
  const std::string& source() const { return source_; }
  // Whether the deck file or a --set gives `path` (a key or a section), rather than a default.
  bool given(const std::string& path) const;

  // The integer keys the deck file or a --set raises most above their defaults, by ratio, at most
  // `n`: "model.latent = 1000000 (default 128)". Named in an out-of-memory error (run_app), which
  // otherwise names no key: the size that was too large is most often among them (step counts,
  // which are not sizes, can be too; the user tells them apart).
  std::vector<std::string> raised_integer_keys(size_t n) const;

  // Keys the deck file or a --set gives that this deck does not read (Schema::read_only_when):
  // one message per condition, e.g. "time.dt, time.end are read only with time.mode: transient,
  // and the deck has time.mode: steady". Apps log them as warnings (run_app).
  std::vector<std::string> unread_given_keys() const;

  // Throws an Error located at `path` ("file:line: path: message"), for checks that span keys.
  [[noreturn]] void fail(const std::string& path, const std::string& message) const;
  // For a check between two keys: located at `first`, unless only `second` was given by --set
  // (then the override is what made them disagree, and the error says so).
  [[noreturn]] void fail_pair(const std::string& first, const std::string& second, const std::string& message) const;
  // The text fail() would throw: for errors that library code raised with a key (Error::key).
  std::string message_at(const std::string& path, const std::string& message) const;
  // Input paths in a deck are relative to the deck file's directory; this makes them usable
  // from the working directory. (Output paths are relative to the working directory.)
  std::string resolve_path(const std::string& path_value) const;
  // The directory resolve_path resolves against, absolute ("" for a deck parsed from text with
  // no file and no base directory).
  std::string base_dir() const;

 private:
  Deck();
  std::string where(const std::string& path) const;
  // Read conditions (deck_unread.cpp): a condition key's value as conditions compare it, whether
  // a condition holds for this deck, and the first condition that leaves `path` idle (none: null).
  std::string condition_value(const std::string& key) const;
  bool holds(const ReadCondition& c) const;
  const ReadCondition* failing_condition(const std::string& path) const;
  const YAML::Node node(const std::string& path) const;

  std::string source_, base_dir_, provenance_;
  const Schema* schema_ = nullptr;
  std::unique_ptr<YAML::Node> resolved_, raw_;
  std::set<std::string> overridden_;
};

}  // namespace tessera::io
