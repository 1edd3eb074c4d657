#include "io/vti.hpp"

#include <vtkCharArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkXMLImageDataWriter.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "io/vtk_write.hpp"

namespace tessera::io {

void write_vti(const std::string& path, int64_t nx, int64_t ny, std::array<double, 2> origin,
               std::array<double, 2> spacing, const std::vector<ImageField>& fields, const std::string& deck_yaml) {
  if (nx < 1 || ny < 1) throw Error(cat(path, ": empty image ", nx, "x", ny));
  core::ensure_parent_dir(path);
  vtkNew<vtkImageData> image;
  image->SetDimensions(static_cast<int>(nx), static_cast<int>(ny), 1);
  image->SetOrigin(origin[0], origin[1], 0.0);
  image->SetSpacing(spacing[0], spacing[1], 1.0);
  for (const ImageField& f : fields) {
    if (static_cast<int64_t>(f.values.size()) != nx * ny)
      throw Error(cat(path, ": field '", f.name, "' has ", f.values.size(), " values; expected ", nx * ny));
    vtkNew<vtkDoubleArray> a;
    a->SetName(f.name.c_str());
    a->SetNumberOfComponents(1);
    a->SetNumberOfTuples(nx * ny);
    for (int64_t i = 0; i < nx * ny; ++i) a->SetValue(i, f.values[i]);
    image->GetPointData()->AddArray(a);
  }
  if (!deck_yaml.empty()) {
    // The deck's text as 8-bit characters: meshio (5.x, Debian's) cannot read VTK's String arrays.
    vtkNew<vtkCharArray> s;
    s->SetName("tessera_deck");
    s->SetNumberOfValues(static_cast<vtkIdType>(deck_yaml.size()));
    for (size_t i = 0; i < deck_yaml.size(); ++i) s->SetValue(static_cast<vtkIdType>(i), deck_yaml[i]);
    image->GetFieldData()->AddArray(s);
  }
  vtkNew<vtkXMLImageDataWriter> w;
  w->SetInputData(image);
  w->SetDataModeToBinary();
  write_atomically(*w, path);
}

}  // namespace tessera::io
