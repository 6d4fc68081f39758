// SimContext.h — the state behind the opaque snnc_rt_ctx of one simulation run.
#pragma once
#include <cstdint>
#include <vector>

#include "DelayQueue.h"
#include "Rng.h"
#include "Simulation.h"

struct snnc_rt_ctx {
  const snnc::rt::SimSpec *spec = nullptr;
  snnc::rt::SimResult *result = nullptr;
  snnc::rt::Rng init_rng{0, 0};
  std::vector<snnc::rt::Rng> poisson_rng;           ///< one stream per Poisson source
  std::vector<int64_t> poisson_size;                ///< neurons of each Poisson source
  std::vector<snnc::rt::Rng> stimulus_rng;          ///< one stream per stimulus source
  std::vector<std::vector<double>> stimulus_rates;  ///< per stimulus source: Hz per neuron
  /// per group: where its spikes are also counted per neuron (null: not counted)
  std::vector<std::vector<int32_t> *> counts;
  std::vector<std::vector<const int64_t *>>
      out_rows;  ///< per group: row_ptr of outgoing connections
  /// per connection: spikes in flight (connections with delays), and for delays drawn per
  /// synapse the CSR rows and the delays that place each synapse's arrival
  std::vector<snnc::rt::DelayQueue> delay_queues;
  std::vector<int64_t> delay_steps;
  std::vector<const int64_t *> delay_rows;
  std::vector<const int32_t *> synapse_delays;
  double spike_budget = 0;         ///< bytes recorded spikes may take
  double spike_bytes = 0;          ///< bytes they take so far (vector capacities)
  int64_t spike_overflow_at = -1;  ///< the step at which they outgrew the budget
};
