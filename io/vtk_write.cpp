#include "io/vtk_write.hpp"

#include <vtkErrorCode.h>
#include <vtkPNGWriter.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLWriter.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace tessera::io {

std::string vtk_error(unsigned long code) {
  if (code == vtkErrorCode::NoError) return "";
  if (code == vtkErrorCode::OutOfDiskSpaceError) return "out of disk space (or over the file size limit)";
  const char* name = vtkErrorCode::GetStringFromErrorCode(code);
  return name && *name ? name : cat("VTK error code ", code);
}

void write_atomically(vtkXMLWriter& writer, const std::string& path) {
  writer.WriteToOutputStringOn();
  const int ok = writer.Write();
  const std::string reason = vtk_error(writer.GetErrorCode());
  if (ok != 1 || !reason.empty())
    throw Error(cat(path, ": VTK could not write the file: ", reason.empty() ? "its writer failed" : reason));
  core::write_text_atomic(path, writer.GetOutputString());
}

void write_atomically(vtkPNGWriter& writer, const std::string& path) {
  writer.WriteToMemoryOn();
  writer.Write();
  vtkUnsignedCharArray* bytes = writer.GetResult();
  const std::string reason = vtk_error(writer.GetErrorCode());
  if (!reason.empty() || !bytes || bytes->GetNumberOfValues() == 0)
    throw Error(cat(path, ": the PNG writer failed", reason.empty() ? "" : ": " + reason));
  core::write_text_atomic(path, std::string(reinterpret_cast<const char*>(bytes->GetPointer(0)),
                                            static_cast<size_t>(bytes->GetNumberOfValues())));
}

}  // namespace tessera::io
