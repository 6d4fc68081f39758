// snnc.h — the public C++ API of snnc: compile a .snn file or string into a Program, simulate
// its population networks, train its experiments, and predict with trained weights. The
// `snnc` command line and the Python module are built on this header alone; it includes no
// compiler, LLVM or runtime header.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace snnc {

/// A source that does not compile: what() holds every diagnostic as the command line prints
/// it (`file:line:col: error: message`, the source line and a caret).
class CompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------------------
// Simulation of population networks (`simulation` blocks)

struct SimulationOptions {
  std::string simulation;  ///< which one ("" = the first in the file)
  /// Parameter overrides as NAME=VALUE with units, e.g. "E.tau_m=10ms" (`snnc run --set`).
  std::vector<std::string> set;
  int64_t seed = -1;                                             ///< >= 0: replaces the file's seed
  std::string target = "cpu";                                    ///< cpu (LLVM JIT) or cuda
  std::function<void(int64_t done, int64_t total)> on_progress;  ///< steps simulated so far
  /// A simulation with a protocol (present/learn/classify): samples shown so far in each
  /// phase ("learn", "assign", "test").
  std::function<void(const std::string &phase, int64_t done, int64_t total)> on_sample;
};

/// The outcome of a simulation's protocol: a data set shown sample by sample.
struct ProtocolOutcome {
  int64_t learned = 0, assigned = 0, tested = 0, correct = 0;
  int64_t repetitions = 0;     ///< samples shown again (too few spikes), in all phases
  int64_t silent = 0;          ///< samples that never reached the spike count
  double accuracy = 0;         ///< correct / tested
  std::string readout;         ///< "vote" (label assignment) or "linear" (ridge regression)
  double input_accuracy = -1;  ///< linear readout: the same readout fitted to the raw pixels
  double learn_seconds = 0, assign_seconds = 0, test_seconds = 0;
  std::vector<int32_t> assignment;           ///< class of each neuron of the classify group
  std::vector<int32_t> predictions, labels;  ///< of the test samples
  std::vector<int64_t> sample_shape;         ///< of the images, e.g. [1, 28, 28]
  std::string normalised;                    ///< the connection whose weights were normalised
};

struct SpikeGroup {
  std::string name;
  int64_t size = 0;
  bool population = true;   ///< false: a Poisson source
  int64_t spike_count = 0;  ///< all spikes of the group
  /// The recorded spikes (`record spikes(...)`): time step and neuron of each, in time order.
  std::vector<int64_t> spike_steps;
  std::vector<int32_t> spike_neurons;
};

struct StateTrace {
  std::string group, variable;
  std::vector<int64_t> neurons;  ///< which neurons (columns of values)
  std::vector<double> values;    ///< [steps][neurons.size()], row-major, SI units
};

/// The synapses of a connection with a synapse model (plasticity) at the end of a run.
struct SynapseState {
  std::string connection;                                ///< e.g. "input_to_N"
  std::vector<int32_t> pre, post;                        ///< the neurons each synapse joins
  std::map<std::string, std::vector<double>> variables;  ///< per-synapse state (e.g. "w"), SI
};

class SimulationResult {
 public:
  std::string simulation;
  double dt = 0;  ///< seconds
  int64_t steps = 0;
  uint64_t seed = 0;
  std::vector<SpikeGroup> groups;
  std::vector<StateTrace> traces;
  std::vector<SynapseState> plastic;  ///< connections with a synapse model
  bool has_protocol = false;
  ProtocolOutcome protocol;  ///< when has_protocol
  int64_t synapses = 0, synaptic_events = 0;
  double compile_seconds = 0, connectivity_seconds = 0, run_seconds = 0;
  std::string compiler;  ///< "llvm", or for target cuda "nvcc" / "host shim"

  /// Writes spikes.csv, traces.csv (when traced), raster.svg and, for connections with a
  /// synapse model, synapses.csv into `dir`; with a protocol that normalises a connection,
  /// also receptive_fields.png (the weights into each neuron as an image).
  void write_outputs(const std::string &dir) const;

 private:
  friend class Program;
  std::shared_ptr<const void> spec_;  ///< what write_outputs needs
};

// ---------------------------------------------------------------------------------------
// Training (`experiment` blocks)

struct EpochMetrics {
  std::string role;     ///< "model" or "compare" (the ANN twin)
  std::string network;  ///< the network's name
  int64_t replicate = 0, epoch = 0, epochs = 0;
  double train_loss = 0, train_accuracy = 0, test_accuracy = 0;
  double seconds = 0, samples_per_second = 0;
};

struct TrainProgress {
  std::string role;
  int64_t epoch = 0, epochs = 0, batch = 0, batches = 0;
  double loss = 0, accuracy = 0, samples_per_second = 0;  ///< over the epoch so far
};

struct TrainOptions {
  std::string experiment;                     ///< "" = the first in the file
  std::string data_dir;                       ///< "" = the experiment's
  std::string out_dir;                        ///< "" = out/<experiment>/run-<date>-<time>
  std::string summary_json;                   ///< "" = <out_dir>/summary.json
  std::string resume_dir;                     ///< continue the run in this directory
  bool force = false;                         ///< resume even where the settings differ (recorded)
  int64_t epochs = 0;                         ///< 0 = the experiment's
  int64_t train_limit = -1, test_limit = -1;  ///< -1 = the experiment's (0 = all)
  int64_t seed = -1;                          ///< -1 = the experiment's
  bool no_compare = false;                    ///< do not train the ANN twin
  std::string synapse;         ///< "" = as planned; auto, dense or event for every layer
  int64_t micro_batch = 0;     ///< > 0: forward/backward this many samples at a time
  int64_t segment_steps = 0;   ///< > 0: BPTT over segments of this many steps
  std::string target = "cpu";  ///< cpu, or cuda
  double prune = 0;            ///< > 0: magnitude-prune hidden linear layers to this sparsity
  int64_t prune_after = -1;    ///< ... after this many epochs (-1: half of them)
  /// Called with every line the run reports (what `snnc run` prints), after each batch, and
  /// after each epoch's evaluation. Any may be empty.
  std::function<void(const std::string &line)> on_log;
  std::function<void(const TrainProgress &)> on_progress;
  std::function<void(const EpochMetrics &)> on_epoch;
};

struct TrainResult {
  std::string run_dir, summary_path;
  std::string summary_json;          ///< the text of summary.json
  std::string results_table;         ///< Markdown, one row per network over replicates
  std::vector<EpochMetrics> epochs;  ///< every epoch of every network, in order (resumed ones too)
};

// ---------------------------------------------------------------------------------------
// Standalone binaries (`snnc build`)

struct BuildOptions {
  std::string experiment;         ///< "" = the first in the file
  std::string weights;            ///< the checkpoint (safetensors) to embed
  std::string output;             ///< the executable to write
  std::string target = "native";  ///< CPU: native or an LLVM CPU name; or cuda
  bool compare = false;           ///< the experiment's `compare` twin
  std::string synapse;            ///< dense, event or auto for every layer ("" = the file's)
  double prune = 0;  ///< > 0: zero this fraction of each hidden linear layer's smallest weights
  std::function<void(const std::string &line)> on_log;  ///< what pruning reports
};

struct BuildResult {
  std::string output, network;
  int64_t tensors = 0;  ///< weight tensors embedded
  std::string target;   ///< e.g. "CPU native", "CUDA sm_80/sm_90"
};

// ---------------------------------------------------------------------------------------

/// A compiled .snn source. Cheap to copy (shared).
class Program {
 public:
  /// Parses and checks a file or a string; throws CompileError (diagnostics) or
  /// std::runtime_error (an unreadable file).
  static Program compile_file(const std::string &path);
  static Program compile_source(const std::string &text, const std::string &name = "<string>");

  const std::string &name() const;  ///< the file name, or the name given with the source
  std::vector<std::string> simulations() const;
  std::vector<std::string> experiments() const;
  std::vector<std::string> networks() const;
  /// Warnings the checks reported (rendered as printed), in order.
  const std::vector<std::string> &warnings() const;

  /// JIT-compiles and runs a simulation; results in memory. Throws CompileError or
  /// std::runtime_error.
  SimulationResult simulate(const SimulationOptions &options = {}) const;

  /// Trains an experiment's network (and its twin) on its data set, evaluating after each
  /// epoch, with checkpoints and summary in the run directory. Throws on failure.
  TrainResult train(const TrainOptions &options = {}) const;

  /// Compiles an experiment's trained network ahead of time into a standalone executable
  /// that embeds the weights and needs no LLVM, compiler or Python. Throws on failure.
  BuildResult build(const BuildOptions &options) const;

  struct Impl;
  const Impl &impl() const { return *impl_; }

 private:
  explicit Program(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

/// A trained network of an experiment, ready to classify images.
class Predictor {
 public:
  /// The experiment's model (or its `compare` twin) with the weights of a checkpoint
  /// (safetensors); throws when they do not fit the network.
  static Predictor load(const Program &program, const std::string &weights,
                        const std::string &experiment = "", bool compare = false);
  int64_t features() const;  ///< input values per image
  int64_t classes() const;
  int64_t steps() const;  ///< time steps per image
  const std::string &network() const;
  /// Predicted class of each of `count` images [count][features()], values in [0, 1],
  /// encoded and decoded as the experiment's evaluation does (the same seed: the same
  /// predictions as `snnc run` and the standalone binaries).
  std::vector<int32_t> predict(const float *images, int64_t count);

  struct Impl;

 private:
  explicit Predictor(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace snnc
