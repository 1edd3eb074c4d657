#pragma once
// The message of a yaml-cpp exception, for errors that name the file themselves.

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "core/error.hpp"

namespace tessera::io {

// yaml-cpp reports input nested past its depth limit as "bad file"; this says what happened.
inline std::string yaml_message(const YAML::Exception& e) {
  if (const auto* deep = dynamic_cast<const YAML::DeepRecursion*>(&e))
    return cat("yaml-cpp: error at line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": nested ", deep->depth(),
               " levels deep, past yaml-cpp's limit");
  return e.what();
}

}  // namespace tessera::io
