#include "core/build_info.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "tessera/config.hpp"
#if TESSERA_HAVE_MPI
#include <mpi.h>
#endif

namespace tessera::core {

std::string cpu_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model, flags;
  while (std::getline(in, line) && (model.empty() || flags.empty())) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && model.empty()) model = value;
    if (key == "flags" && flags.empty()) flags = " " + value + " ";
  }
  if (model.empty()) return "unknown CPU";
  std::string isa;
  for (const char* f : {"avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"})
    if (flags.find(cat(" ", f, " ")) != std::string::npos) isa += cat(isa.empty() ? "" : " ", f);
  return cat(model, "; ", isa.empty() ? "no AVX2" : isa);
}

std::string host_name() {
  char host[256] = {0};
  return gethostname(host, sizeof host - 1) == 0 ? host : "";
}

std::string provenance_comment(int ranks) {
  std::string mpi;
#if TESSERA_HAVE_MPI
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) {
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(text, &length);
    std::string v(text, static_cast<size_t>(length));
    mpi = v.substr(0, v.find_first_of(",\n"));  // "Open MPI v4.1.4", without the package details
  }
#endif
  const std::string host = host_name();
  const char* omp = std::getenv("OMP_NUM_THREADS");
  const std::string libraries = build_libraries();
  std::ostringstream s;
  s << "# tessera " << TESSERA_VERSION << " (git " << git_commit() << ")"
    << (libraries.empty() && mpi.empty() ? "" : " with ") << libraries << (libraries.empty() || mpi.empty() ? "" : ", ")
    << mpi << "\n"
    << "# run on " << counted(ranks, "rank", "ranks") << (ranks > 1 ? ", rank 0" : "") << " on host "
    << (host.empty() ? "unknown" : host) << " (" << cpu_description() << "); OMP_NUM_THREADS " << (omp ? omp : "unset")
    << "\n";
  return s.str();
}

}  // namespace tessera::core
