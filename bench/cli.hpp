// Command lines of the benchmark programs (CLI11): a usage error is one line and exit code 2.
#pragma once
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace tessera::bench {

// Checks that a value read as T is > 0 (or >= 0), so "2.5" fails for an integer option. Not
// CLI11's PositiveNumber: that reads a double and names its bound, the largest double, in 309 digits.
template <class T>
CLI::Validator sign_check(bool zero_ok) {
  const std::string expected =
      std::string(zero_ok ? "a non-negative " : "a positive ") + (std::is_integral_v<T> ? "integer" : "number");
  return CLI::Validator(
      [=](std::string& in) {
        T v{};
        const bool ok = CLI::detail::lexical_cast(in, v) && (v > T{0} || (zero_ok && v == T{0}));
        return ok ? std::string() : "expected " + expected + ", got '" + in + "'";
      },
      zero_ok ? "NONNEGATIVE" : "POSITIVE");
}
template <class T>
CLI::Validator positive() {
  return sign_check<T>(false);
}
template <class T>
CLI::Validator non_negative() {
  return sign_check<T>(true);
}

// Checks a comma-separated list whose items are each one of `allowed` (e.g. --peers pyg,torch).
inline CLI::Validator comma_choices(std::vector<std::string> allowed) {
  return CLI::Validator(
      [allowed](std::string& in) {
        std::stringstream ss(in);
        for (std::string item; std::getline(ss, item, ',');)
          if (std::find(allowed.begin(), allowed.end(), item) == allowed.end()) {
            std::string expected;
            for (const auto& a : allowed) expected += (expected.empty() ? "" : ", ") + a;
            return "unknown '" + item + "'; expected items of " + expected;
          }
        return std::string();
      },
      "LIST");
}

// The items of a comma-separated list.
inline std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

// Parses the command line into `cli`. Returns the exit code when the program must stop: 0 after
// --help (the usage printed), 2 after a usage error (CLI11's one-line message and a pointer to
// --help); nothing to go on. `print`: false on MPI ranks other than 0, so that a run under mpiexec
// prints the message once.
inline std::optional<int> parse(CLI::App& cli, int argc, char** argv, bool print = true) {
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return (print ? cli.exit(e) : e.get_exit_code()) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

// The Python of the peers' venv as bench/peer_venv.sh creates it by default
// (~/.local/share/tessera/bench-venv): the default of the benches' --python options for peers
// (PhysicsNeMo, PyTorch Geometric, DeepXDE); empty without HOME. The scripts pass their own.
inline std::string peer_venv_python() {
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.local/share/tessera/bench-venv/bin/python" : std::string();
}

}  // namespace tessera::bench
