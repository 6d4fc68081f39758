// SampleProtocol.h — runs a simulation that shows a data set sample by sample (Diehl &
// Cook 2015): learning with plasticity on, then label assignment and evaluation with it
// off. The compiler describes the protocol (ProtocolSpec); this drives the generated
// module step range by step range through SimInstance. No compiler headers.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "Simulation.h"

namespace snnc::rt {

struct ProtocolSpec {
  std::string data_dir;  ///< MNIST-like IDX files (train-*, t10k-*)
  int stimulus = -1;     ///< stimulus source id (SimSpec::stimulus_groups)
  double max_rate = 0;   ///< Hz for a pixel of 255
  double boost = 0;      ///< Hz added to max_rate for each repetition of a sample
  int64_t present_steps = 0, rest_steps = 0;
  int64_t repeat_below = 0;  ///< show again when count_group fired fewer spikes
  int32_t count_group = -1;  ///< SimSpec group id
  int64_t learn_images = 0;
  /// normalisation before every learning sample: the weights into each postsynaptic neuron
  /// of connection `normalise` (SimSpec::connections) scaled to sum to `normalise_total`
  int normalise = -1, normalise_weights = -1;  ///< connection index, F64 buffer of w
  double normalise_total = 0;
  int32_t classify_group = -1;  ///< SimSpec group id
  int64_t assign_images = 0, test_images = 0;
  /// classify with a ridge-regression readout of the spike counts (and report the same
  /// readout of the raw pixels) instead of label assignment and vote
  bool linear_readout = false;
  double ridge = 1e-2;      ///< the readout's regularisation, relative to the features' scale
  int learning_param = -1;  ///< slot of `learning` in the parameters
  int max_repeats = 20;     ///< a sample is shown at most this often (then counted as silent)
};

struct ProtocolResult {
  int64_t learned = 0, assigned = 0, tested = 0, correct = 0;
  int64_t steps = 0;        ///< time steps simulated in all
  int64_t repetitions = 0;  ///< extra presentations (fewer spikes than repeat_below)
  int64_t silent = 0;       ///< samples still below repeat_below after max_repeats
  double learn_seconds = 0, assign_seconds = 0, test_seconds = 0;
  std::vector<int32_t> assignment;           ///< per neuron of the classify group: its class, or -1
  std::vector<int32_t> predictions, labels;  ///< of the test samples
  std::vector<int64_t> sample_shape;         ///< of the data's images
  /// linear readout: the accuracy of the same readout fitted to the raw pixels
  double input_accuracy = -1;
  double accuracy() const { return tested ? double(correct) / tested : 0; }
};

/// Called with the phase ("learn", "assign", "test"), samples done and samples in total.
using ProtocolProgressFn = std::function<void(const char *, int64_t, int64_t)>;

/// Runs every phase of the protocol. Throws std::runtime_error naming the problem (a data
/// set that cannot be read, a stimulus of another size than the images).
ProtocolResult run_protocol(SimInstance &sim, const SimSpec &spec, const ProtocolSpec &protocol,
                            const ProtocolProgressFn &progress = {});

/// Label assignment and voting (exposed for tests): `responses` holds, per sample, the
/// spike count of each of `neurons` neurons.
std::vector<int32_t> assign_labels(const std::vector<std::vector<int32_t>> &responses,
                                   const std::vector<int32_t> &labels, int32_t classes,
                                   int64_t neurons);
int32_t vote(const std::vector<int32_t> &counts, const std::vector<int32_t> &assignment,
             int32_t classes);

/// A linear readout by ridge regression onto one-hot labels: W minimising
/// |X W - Y|^2 + ridge * trace(X^T X) / F * |W|^2 (a bias column added), for X the samples'
/// features [samples][F]. Returns W, (F + 1) x classes, row-major.
std::vector<double> fit_readout(const std::vector<std::vector<double>> &features,
                                const std::vector<int32_t> &labels, int32_t classes, double ridge);
int32_t read_out(const std::vector<double> &w, const std::vector<double> &features,
                 int32_t classes);

}  // namespace snnc::rt
