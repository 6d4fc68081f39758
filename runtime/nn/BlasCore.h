// BlasCore.h — which OpenBLAS kernel set runs the dense layers, and a way to make it the one
// the CPU deserves. Debian's OpenBLAS 0.3.21 picks its kernels when it loads, by CPU model;
// on CPUs newer than it (Sapphire Rapids, say) it falls back to the generic "Prescott" set,
// four times slower at sgemm. OPENBLAS_CORETYPE chooses the set instead, but it must be set
// before the library loads: reexec_for_blas_core() restarts the process with it.
#pragma once
#include <string>

namespace snnc::rt::nn {

/// The kernel set in use ("Haswell", "SkylakeX", "Prescott", ...).
std::string blas_core();

/// The set to use instead of blas_core(), or "" to keep it: set only where OpenBLAS fell back
/// to a set below the CPU's features (SkylakeX for AVX-512 F/BW/DQ/VL, Haswell for AVX2 and
/// FMA) and OPENBLAS_CORETYPE was not given.
std::string better_blas_core();

/// The decision behind better_blas_core(), for a kernel set `current` on a CPU with these
/// features: "SkylakeX", "Haswell" or "" (keep `current`).
std::string better_blas_core_for(const std::string &current, bool avx512, bool avx2_fma);

/// Where better_blas_core() names a set, executes the program again (/proc/self/exe, the same
/// arguments) with OPENBLAS_CORETYPE set to it; returns when nothing is to be done or the
/// exec failed. Call at the top of main(), before any thread starts. SNNC_BLAS_CORE=keep
/// turns it off.
void reexec_for_blas_core(char **argv);

}  // namespace snnc::rt::nn
