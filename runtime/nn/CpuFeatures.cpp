// CpuFeatures.cpp — the CPU's features, restricted by SNNC_CPU.
#include "CpuFeatures.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace snnc::rt::nn {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
  const char *mode = std::getenv("SNNC_CPU");
  if (mode && std::strcmp(mode, "generic") == 0) return f;
  if (mode && *mode && std::strcmp(mode, "native") != 0)
    std::fprintf(stderr,
                 "snnc: warning: SNNC_CPU='%s' is neither 'native' nor 'generic'; using "
                 "the CPU's features\n",
                 mode);
  __builtin_cpu_init();
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw_vl =
      f.avx512f && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  f.avx512vbmi2 = f.avx512bw_vl && __builtin_cpu_supports("avx512vbmi2");
  return f;
}

}  // namespace

const CpuFeatures &cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace snnc::rt::nn
