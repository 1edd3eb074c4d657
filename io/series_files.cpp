#include "io/series_files.hpp"

#include <filesystem>

namespace tessera::io {

void remove_series_files(const std::string& base) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(base).parent_path().empty() ? fs::path(".") : fs::path(base).parent_path();
  const std::string name = fs::path(base).filename().string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  const auto all_digits = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  };
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string f = e.path().filename().string();
    bool ours = f == name + ".xmf" || f == name + ".pvd" || f == name + "_mesh.h5";
    if (!ours && f.rfind(name + "_", 0) == 0) {
      // <name>_<digits>.h5 / .vtu / .pvtu / .vti: a step file
      const std::string rest = f.substr(name.size() + 1);
      const auto dot = rest.rfind('.');
      const std::string stem = rest.substr(0, dot), ext = dot == std::string::npos ? "" : rest.substr(dot);
      ours = all_digits(stem) && (ext == ".h5" || ext == ".vtu" || ext == ".pvtu" || ext == ".vti");
    }
    if (ours) fs::remove(e.path());
  }
}

}  // namespace tessera::io
