// The deck of tessera-import (sections import, fields, node_types, output; docs/import.md): its
// keys, and the typed options (io/foreign.hpp) the readers take.
#pragma once

namespace tessera::io {

class Deck;
class Schema;
struct ImportOptions;

void add_import_keys(Schema& schema);
// Reads the import, fields and node_types sections (the app reads output.*).
ImportOptions import_options(const Deck& deck);

}  // namespace tessera::io
