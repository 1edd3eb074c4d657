// Keeps the SIGTERM and SIGABRT dispositions across a call into a library that replaces them.
// METIS's GKlib traps both during a call (METIS_PartGraphKway, METIS_NodeND) and puts the
// previous handlers back with signal(), which drops their sigaction flags: tessera's interrupt
// handler, installed with SA_SIGINFO (core/atomic_file.cpp), then read a garbage sender. METIS
// runs inside tessera's partitioning (mesh/partition.cpp) and, where PETSc's MUMPS was built with
// it (a cluster's --download-metis; not Debian's), inside each symbolic factorisation. A signal
// that arrives while the library's own handler is installed is the library's: METIS turns it
// into an error return.
#pragma once
#include <signal.h>

namespace tessera::core {

class KeptSignalDispositions {
 public:
  KeptSignalDispositions() {
    for (int k = 0; k < 2; ++k) have_[k] = ::sigaction(kSignals[k], nullptr, &kept_[k]) == 0;
  }
  ~KeptSignalDispositions() {
    for (int k = 0; k < 2; ++k)
      if (have_[k]) ::sigaction(kSignals[k], &kept_[k], nullptr);
  }
  KeptSignalDispositions(const KeptSignalDispositions&) = delete;
  KeptSignalDispositions& operator=(const KeptSignalDispositions&) = delete;

 private:
  static constexpr int kSignals[2] = {SIGTERM, SIGABRT};
  struct sigaction kept_[2]{};
  bool have_[2] = {false, false};
};

}  // namespace tessera::core
