// A trajectory's identity, to tell whether two trajectories hold the same data: the CRC-32
// (zlib) of the fields a mesh model reads (cells, mesh_pos, node_type, velocity: names, shapes,
// values; other fields such as pressure are left out, so an import without them is the same
// trajectory). Checkpoints store their training trajectories' fingerprints, so that a resume on
// other data is refused and a rollout on a training trajectory is told so (docs/design.md).
#pragma once
#include <string>

#include "io/dataset.hpp"
#include "io/planetoid.hpp"
#include "mesh/mesh.hpp"

namespace tessera::io {

// Eight hex digits. Equal data gives equal text on every machine of one byte order; a changed value changes it
// (the chance that other data gives the same text is 2^-32).
std::string trajectory_fingerprint(const Trajectory& t);

// A node-classification graph's identity, the same way: the CRC-32 of its sizes, features, labels,
// edges and the three masks (GNNPipe stores it in its checkpoints: a name and sizes alone let a
// resume go on with a shuffled y).
std::string node_dataset_fingerprint(const NodeDataset& d);

// A mesh's identity: the CRC-32 of its dimension, cell type, coordinates, cells and node types
// (tessera-cfd's restart files store it: a restart on another mesh is refused).
std::string mesh_fingerprint(const mesh::Mesh& m);

}  // namespace tessera::io
