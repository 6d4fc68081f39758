// DelayQueue.h — spikes in flight on a connection with synaptic delays.
//
// A ring of per-step lists: what is pushed for arrival at step n is taken at step n.
// Entries are presynaptic neuron indices (one delay for the connection) or synapse ids
// (delays drawn per synapse); within a step they keep the order they were pushed in,
// which is deterministic, so runs repeat bit for bit.
#pragma once
#include <cstdint>
#include <vector>

namespace snnc::rt {

class DelayQueue {
 public:
  /// Room for delays of 1 .. max_delay steps.
  explicit DelayQueue(int64_t max_delay = 0) : slots_(max_delay + 1) {}
  void push(int64_t arrival, int32_t id) { slot(arrival).push_back(id); }
  /// The entries arriving at `step`, valid until the next take.
  const std::vector<int32_t> &take(int64_t step) {
    current_.clear();
    current_.swap(slot(step));
    return current_;
  }

 private:
  std::vector<std::vector<int32_t>> slots_;
  std::vector<int32_t> current_;
  std::vector<int32_t> &slot(int64_t step) {
    return slots_[static_cast<size_t>(step % static_cast<int64_t>(slots_.size()))];
  }
};

}  // namespace snnc::rt
