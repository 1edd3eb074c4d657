#pragma once
// Row loops that stream memory (epilogues, gathers, segment sums) built twice: for AVX2 + FMA
// (x86-64-v3) and for the baseline, the CPU choosing at load time. The build targets plain x86-64
// (binaries run on any x86-64 machine), where these loops compile to SSE2 and ran at about half
// speed. `flatten` inlines what they call, so the callees take the clone's instruction set too.
#define TESSERA_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), flatten))
