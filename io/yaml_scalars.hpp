// Scalar conversions of YAML nodes that reject what yaml-cpp would silently coerce (a quoted "3"
// as a number, "1.5" as an integer, "inf" as a finite float). Shared by the deck's validation and
// its check of idle keys (io/deck.cpp, io/deck_unread.cpp); not part of io's interface.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace YAML {
class Node;
}

namespace tessera::io::detail {

bool as_bool(const YAML::Node& n, bool& out);
bool as_int(const YAML::Node& n, int64_t& out);
bool as_float(const YAML::Node& n, double& out);
// The finite number that all of `s` spells, if it does ("1e-2", "0"; not "1.5x", "inf", "").
std::optional<double> parse_number(const std::string& s);

}  // namespace tessera::io::detail
