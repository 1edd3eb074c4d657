#pragma once
// Row loops that stream memory (epilogues, gathers, segment sums) built twice: for AVX2 + FMA
// (x86-64-v3) and for the baseline, the CPU choosing at load time. The build targets plain x86-64
// (binaries run on any x86-64 machine), where these loops compile to SSE2 and ran at about half
// speed. `flatten` inlines what they call, so the callees take the clone's instruction set too.
// Clang (14, and the compilers built on it) rejects target_clones with flatten and on function
// templates (llvm-project issue 116501): there these loops build for the baseline alone (a clang
// build measured 7% slower segment sums, 15-20% slower PINN steps on an AVX2 EPYC).
#if defined(__clang__)
#define TESSERA_CPU_CLONES
#else
#define TESSERA_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), flatten))
#endif
