// run_in_child: runs a piece of code in a forked copy of this process and brings back its
// result, so that a crash inside a third-party library (Gmsh's and HDF5's readers crash on some
// damaged files, found by fuzzing: docs/reliability.md) becomes an Error instead of killing the
// run. The child must not use MPI; it exits with _exit, so nothing of the parent is torn down.
#pragma once
#include <functional>
#include <string>

namespace tessera::core {

// Runs `work` in a child process and returns the bytes it returned. A tessera::Error (or any
// exception) thrown by `work` is thrown again here as an Error with the same message. When the
// child dies instead (a signal, a sanitizer report), the result is an Error
// "<what> crashed (<how the child ended>)<advice>". When no child can be made (fork fails, or
// TESSERA_NO_CHILD_READERS=1 is set, e.g. where the MPI transport forbids fork) `work` runs here.
std::string run_in_child(const std::function<std::string()>& work, const std::string& what, const std::string& advice);

}  // namespace tessera::core
