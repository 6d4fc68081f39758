// BlasCore.cpp — the OpenBLAS kernel set, and restarting with a better one.
#include "BlasCore.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

extern "C" char *openblas_get_corename(void);

namespace snnc::rt::nn {

namespace {

/// 0: generic x86-64 sets; 1: AVX (Sandybridge, Bulldozer family); 2: AVX2 + FMA;
/// 3: AVX-512. Unknown names count as good enough.
int level_of(const std::string &core) {
  for (const char *c : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai",
                        "Coppermine", "Northwood", "Banias", "Opteron", "Barcelona", "Nano"})
    if (core == c) return 0;
  for (const char *c : {"Sandybridge", "Bulldozer", "Piledriver", "Steamroller"})
    if (core == c) return 1;
  for (const char *c : {"Haswell", "Zen", "Excavator"})
    if (core == c) return 2;
  return 3;
}

}  // namespace

std::string blas_core() {
  const char *name = openblas_get_corename();
  std::string core = name ? name : "";
  while (!core.empty() && core.back() == ' ') core.pop_back();
  return core;
}

std::string better_blas_core_for(const std::string &current, bool avx512, bool avx2_fma) {
  const char *want = avx512 ? "SkylakeX" : avx2_fma ? "Haswell" : "";
  const int want_level = avx512 ? 3 : avx2_fma ? 2 : 0;
  return want_level > level_of(current) ? want : "";
}

std::string better_blas_core() {
  const char *given = std::getenv("OPENBLAS_CORETYPE");
  if (given && *given) return "";
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const bool avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return better_blas_core_for(blas_core(), avx512, avx2_fma);
}

void reexec_for_blas_core(char **argv) {
  const char *keep = std::getenv("SNNC_BLAS_CORE");
  if (keep && std::strcmp(keep, "keep") == 0) return;
  const std::string core = better_blas_core();
  if (core.empty()) return;
  setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  setenv("SNNC_BLAS_CORE", "keep", 1);  // never twice
  execv("/proc/self/exe", argv);
  // exec failed: go on with the generic kernels
}

}  // namespace snnc::rt::nn
