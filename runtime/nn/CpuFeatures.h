// CpuFeatures.h — which instruction sets the hand-written kernels (runtime/nn: events, conv
// sums, pattern tables, pooling) may use: what the CPU supports, unless the environment
// variable SNNC_CPU=generic forbids AVX-512, so the portable fallbacks run (and are tested)
// on any machine. Loops that the compiler clones per target (target_clones) follow the CPU.
#pragma once

namespace snnc::rt::nn {

struct CpuFeatures {
  bool avx512f = false;
  bool avx512bw_vl = false;  ///< AVX512BW and AVX512VL
  bool avx512vbmi2 = false;  ///< with AVX512BW and AVX512VL
};

/// Read once (CPU and SNNC_CPU); an unknown SNNC_CPU value is reported on stderr and ignored.
const CpuFeatures &cpu_features();

}  // namespace snnc::rt::nn
