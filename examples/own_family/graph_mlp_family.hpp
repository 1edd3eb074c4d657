// graph_mlp: a model family defined outside tessera (docs/extending.md).
#pragma once
#include "train/family.hpp"

namespace own {
tessera::train::Family graph_mlp_family();
}
