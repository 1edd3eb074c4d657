// Internal to io/ (includes VTK): VTK's writers finish a file tessera writes itself. VTK 9.1's XML
// and PNG writers meet a full disk with an error message and an error code, but Write() still
// returns success and the truncated file stays (seen: a 64 kB .vtu cut at a file size limit was
// moved into place). So they write into memory, and core::write_text_atomic puts the bytes on
// disk, where a failure is an Error with the system's reason and leaves nothing behind.
#pragma once
#include <string>

class vtkXMLWriter;
class vtkPNGWriter;

namespace tessera::io {

// Runs the writer (its input set) into memory and writes its output atomically to `path`.
void write_atomically(vtkXMLWriter& writer, const std::string& path);
void write_atomically(vtkPNGWriter& writer, const std::string& path);

// Why `code` (a vtkErrorCode) failed a write, in words; empty for no error.
std::string vtk_error(unsigned long code);

}  // namespace tessera::io
