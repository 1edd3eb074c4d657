// Checks of a Gmsh .msh file's text that Gmsh 4.8 does not make itself: on these damages it
// crashes inside the library, allocates by a damaged count or loops for a long time. read_msh
// runs them before Gmsh reads (check_msh_text) and, after Gmsh failed, names the section a
// truncated or spliced file left open (unclosed_section). They read lines and section headers
// only; everything else stays Gmsh's to read.
#pragma once
#include <string>

namespace tessera::mesh {

// Throws an Error naming `path` and the line: a $PhysicalNames entry of dimension other than
// 0..3 or without its quoted name; in ASCII MSH 4.1, a $Nodes or $Elements total, or one block's
// count, that is negative, above the section's total or more than the file's size can hold.
void check_msh_text(const std::string& path);

// The first $Section that is not closed by its $EndSection ("line N: ... closes ..." or "section
// $X (line N) is not closed ..."), or "" when the sections are well formed.
std::string unclosed_section(const std::string& path);

}  // namespace tessera::mesh
