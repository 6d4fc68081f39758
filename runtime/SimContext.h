// SimContext.h — the state behind the opaque snnc_rt_ctx of one simulation run.
#pragma once
#include <cstdint>
#include <vector>

#include "Rng.h"
#include "Simulation.h"

struct snnc_rt_ctx {
  const snnc::rt::SimSpec *spec = nullptr;
  snnc::rt::SimResult *result = nullptr;
  snnc::rt::Rng init_rng{0, 0};
  std::vector<snnc::rt::Rng> poisson_rng;  ///< one stream per Poisson source
  std::vector<int64_t> poisson_size;       ///< neurons of each Poisson source
  std::vector<std::vector<const int64_t *>>
      out_rows;  ///< per group: row_ptr of outgoing connections
};
