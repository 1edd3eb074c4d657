// The files of a time series written under one base name <dir>/<name> (io::XdmfSeries,
// io::PvdCollection and their per-step files): <name>.xmf, <name>_mesh.h5, <name>_000012.h5,
// <name>.pvd, <name>_12.vtu, <name>_12.pvtu, <name>_12.vti (piece folders are left alone).
#pragma once
#include <string>

namespace tessera::io {

// Removes the series files of `base` that an earlier run left, so that a run writing fewer steps,
// or no .pvd or .xmf at all, leaves none that would pass for its own. Files of other names in the
// directory, and other base names sharing the prefix (<name>_1.xmf of a rollout of trajectory 1),
// are kept. Call on one rank before the series is opened.
void remove_series_files(const std::string& base);

}  // namespace tessera::io
