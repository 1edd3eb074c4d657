// The gnnpipe model family entry (registered in train/families/families.cpp).
#pragma once
#include "train/family.hpp"

namespace tessera::train {

Family gnnpipe_family();

}  // namespace tessera::train
