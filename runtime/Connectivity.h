// Connectivity.h — builds a connection's synapses in compressed sparse row form.
//
// Random connectivity skips ahead geometrically between synapses, so building costs
// O(synapses), not O(n_pre * n_post): 40000 x 40000 at p = 0.002 takes milliseconds.
#pragma once
#include <cstdint>
#include <vector>

#include "Rng.h"
#include "Simulation.h"

namespace snnc::rt {

struct Csr {
  std::vector<int64_t> row_ptr;  ///< n_pre + 1
  std::vector<int32_t> col;      ///< ascending within each row
  std::vector<double> weight;    ///< empty for a constant weight
};

/// Throws std::runtime_error naming the connection when the spec is impossible.
Csr build_connectivity(const ConnectivitySpec &spec, Rng &rng);

}  // namespace snnc::rt
