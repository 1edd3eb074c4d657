#include "mesh/msh_text.hpp"

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace tessera::mesh {
namespace {

// A .msh file line by line, numbered from 1, without the '\r' of Windows line ends. hold() makes
// the next next() return the current line again (a section's reader stops at the line that
// starts the next section and leaves it to the caller).
class MshLines {
 public:
  explicit MshLines(const std::string& path) : in_(path, std::ios::binary) {}
  bool next() {
    if (held_) return !(held_ = false);
    if (!std::getline(in_, line_)) return false;
    ++number_;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    return true;
  }
  void hold() { held_ = true; }
  const std::string& line() const { return line_; }
  int64_t number() const { return number_; }

 private:
  std::ifstream in_;
  std::string line_;
  int64_t number_ = 0;
  bool held_ = false;
};

bool starts_section(const std::string& line) { return !line.empty() && line[0] == '$'; }

// Gmsh 4.8 indexes its physical-name tables by the entry's dimension without checking it, so an
// entry of dimension 9 in $PhysicalNames crashed the process (found by fuzz_msh,
// tests/data/bad/fuzz/msh/physical_name_dimension.msh). Reads the section after its
// "$PhysicalNames" line, up to the line that starts the next one.
void check_physical_names(MshLines& l, const std::string& path) {
  if (!l.next()) return;
  if (starts_section(l.line())) return l.hold();  // no count line: Gmsh's to report
  while (l.next()) {                              // the entries, after the count line
    const std::string& line = l.line();
    if (starts_section(line)) return l.hold();
    std::istringstream entry(line);
    int64_t dim = 0, tag = 0;
    if (entry >> dim && (dim < 0 || dim > 3))
      throw Error(cat(path, ":", l.number(), ": $PhysicalNames entry of dimension ", dim,
                      "; expected 0 to 3 (point, curve, surface, volume)"));
    // Without its quoted name Gmsh takes the next line as the name and misreads the rest of the
    // file (a crash inside Gmsh; tests/data/bad/fuzz/msh/physical_name_without_name.msh).
    std::string name;
    if (!(entry >> tag) || !std::getline(entry >> std::ws, name) || name.size() < 2 || name.front() != '"' ||
        name.find('"', 1) == std::string::npos)
      throw Error(cat(path, ":", l.number(), ": expected a $PhysicalNames entry 'dimension tag \"name\"', got '",
                      shown(line, 60), "'"));
  }
}

// Gmsh 4.8 takes a block's stated count as it is: a node block of two billion nodes in a 300-byte
// file kept it busy for 30 s before "Could not read nodes", a negative element block aborted it.
// In ASCII MSH 4.1 each block's count in $Nodes and $Elements is checked against the section's
// total (the blocks add up to it), and the total against the file's size (a node takes two
// lines, its tag and its coordinates, and an element one, each at least 4 bytes). Reads the
// section after its "$Nodes" or "$Elements" line; only the headers are parsed, the entries'
// lines are skipped.
void check_block_counts(MshLines& l, const std::string& path, bool nodes, int64_t file_bytes) {
  if (!l.next()) return;
  const std::string section = nodes ? "$Nodes" : "$Elements", noun = nodes ? "nodes" : "elements";
  std::istringstream h(l.line());
  int64_t blocks = 0, total = 0;
  if (!(h >> blocks >> total)) return;  // Gmsh reports a malformed header itself
  if (total < 0 || total > file_bytes / 4)
    throw Error(cat(path, ":", l.number(), ": ", section, " states ", total, " ", noun, ", ",
                    total < 0 ? "not a count" : cat("more than a file of ", file_bytes, " bytes can hold"),
                    ": the file is damaged"));
  for (int64_t b = 0; b < blocks && l.next() && l.line() != "$End" + section.substr(1); ++b) {
    std::istringstream bh(l.line());
    int64_t dim = 0, tag = 0, kind = 0, count = 0;  // kind: parametric (nodes) or element type
    if (!(bh >> dim >> tag >> kind >> count)) return;
    if (count < 0 || count > total)
      throw Error(cat(path, ":", l.number(), ": block ", b + 1, " of ", section, " states ", count, " ", noun, ", ",
                      count < 0 ? "not a count" : cat("but the section has ", total, " in all"),
                      ": the file is damaged"));
    for (int64_t k = 0; k < (nodes ? 2 : 1) * count && l.next(); ++k) {  // a node's tag and coordinates
    }
  }
}

}  // namespace

void check_msh_text(const std::string& path) {
  const auto file_bytes = static_cast<int64_t>(std::filesystem::file_size(path));
  MshLines l(path);
  bool ascii41 = false;  // the block counts' layout (4.0 put a node on one line; binary has none)
  while (l.next()) {
    const std::string& line = l.line();
    if (line == "$MeshFormat" && l.next()) {
      std::istringstream f(l.line());
      double version = 0;
      int binary = 1;
      ascii41 = f >> version >> binary && version >= 4.05 && binary == 0;
    } else if (line == "$PhysicalNames") {
      check_physical_names(l, path);
    } else if (ascii41 && (line == "$Nodes" || line == "$Elements")) {
      check_block_counts(l, path, line == "$Nodes", file_bytes);
    }
  }
}

std::string unclosed_section(const std::string& path) {
  MshLines l(path);
  std::string open;
  int64_t opened_at = 0;
  while (l.next()) {
    const std::string& line = l.line();
    if (line.size() < 2 || line[0] != '$' || !std::isalpha(static_cast<unsigned char>(line[1]))) continue;
    if (line.rfind("$End", 0) == 0) {
      if (line.substr(4) != open)
        return cat("line ", l.number(), ": ", line, " closes ", open.empty() ? "no open section" : "$" + open);
      open.clear();
    } else if (open.empty()) {
      open = line.substr(1);
      opened_at = l.number();
    }
  }
  return open.empty() ? ""
                      : cat("section $", open, " (line ", opened_at, ") is not closed by $End", open,
                            ": the file is truncated or damaged");
}

}  // namespace tessera::mesh
