// PlanSynapses.cpp — the dense/event cost model of linear and conv layers.
//
// Per input element and per forward pass:
//   dense  = (multiply-accumulates per input element) / dense_rate
//   events = density * (accumulates per active input) / event_rate + scan
// where scan is the cost of finding the nonzeros. Rates in multiply-accumulates per
// nanosecond on two cores, measured with one-off timing runs of runtime/nn's kernels (not
// kept in bench/) on a 2-core AVX-512 machine (see docs/performance.md, "Cost models");
// only their ratios matter. They predate the output-stationary conv forward, the row
// kernels and the pattern tables, and have not been re-measured since.
#include "passes/PlanSynapses.h"

#include <algorithm>

namespace snnc::ir {
namespace {

struct Rates {
  double dense, event;
};
constexpr Rates kLinearRates{110.0, 57.0};  // events: AVX-512 register-accumulated kernel
constexpr Rates kConvRates{80.0, 40.0};
constexpr double kScanNs = 0.14;  // counting and listing the nonzeros, per input element
// A sparse linear layer's kept connections are scattered one by one (~1 ns per connection
// and event, 2 threads) where the dense event kernel sums 16 outputs per instruction: the
// compressed kernels pay off only for very sparse layers. Measured on the AMD EPYC VM
// (784 -> 1000, 12 % input spikes, 3200 rows): forward compressed/dense-events 18.9/11.1 ms
// at sparsity 0.9, 10.5/11.0 at 0.95, 3.7/11.4 at 0.99; weight gradient 14.8/19.2 at 0.9.
constexpr double kCompressedSparsity = 0.93;

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

double event_threshold(const Model &m, const Layer &l) {
  if (l.input < 0 || (l.kind != Layer::Linear && l.kind != Layer::Conv2d)) return 0;
  const std::vector<int64_t> &in = m.layers[l.input].shape;
  const double in_size = static_cast<double>(product(in));
  double dense_per_input, per_event;
  Rates rates;
  if (l.kind == Layer::Linear) {
    dense_per_input = per_event = static_cast<double>(l.out_features);
    rates = kLinearRates;
  } else {
    double ckk = static_cast<double>(in[0] * l.kernel * l.kernel);
    double positions = static_cast<double>(product(l.shape)) / static_cast<double>(l.channels);
    dense_per_input = static_cast<double>(l.channels) * ckk * positions / in_size;
    per_event = static_cast<double>(l.channels * l.kernel * l.kernel) /
                static_cast<double>(l.stride * l.stride);
    rates = kConvRates;
  }
  double t = (dense_per_input / rates.dense - kScanNs) * rates.event / per_event;
  return std::clamp(t, 0.0, 1.0);
}

void plan_synapses(Model &m) {
  for (auto &l : m.layers) {
    if (l.kind == Layer::Linear || l.kind == Layer::Conv2d)
      l.event_threshold = event_threshold(m, l);
    l.compressed = l.kind == Layer::Linear && l.sparsity >= kCompressedSparsity;
  }
}

double compressed_sparsity() {
  return kCompressedSparsity;
}

bool synapse_from_name(const std::string &name, Layer::Synapse *mode) {
  for (auto s : {Layer::Synapse::Auto, Layer::Synapse::Dense, Layer::Synapse::Event})
    if (name == synapse_name(s)) {
      *mode = s;
      return true;
    }
  return false;
}

const char *synapse_name(Layer::Synapse s) {
  switch (s) {
    case Layer::Synapse::Dense:
      return "dense";
    case Layer::Synapse::Event:
      return "event";
    default:
      return "auto";
  }
}

}  // namespace snnc::ir
