// Simulation.h — the runtime side of `snnc run` for `simulation` blocks.
//
// The compiler describes the buffers, connectivity and recordings a generated module
// needs in a SimSpec; Simulation allocates them, builds the compressed connectivity from
// a seeded stream, calls the module's setup/init/run functions in chunks (reporting
// progress) and collects spikes and traces. No compiler headers are included here.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "OutputFiles.h"
#include "snnc_rt.h"

namespace snnc::rt {

enum class ElemType { F64, I32, I64, U8 };
/// Bytes per element of a buffer of this type.
size_t elem_size(ElemType t);

/// One array the generated code reads or writes, by slot number in `void **buffers`.
struct BufferSpec {
  std::string name;
  ElemType type = ElemType::F64;
  int64_t count = 0;
};

enum class ConnKind { AllToAll, OneToOne, Random };
enum class WeightKind { Constant, Uniform, Normal };

/// A connection whose synapses the runtime generates and stores as CSR (one row per
/// presynaptic neuron, columns = postsynaptic indices, ascending within a row).
struct ConnectivitySpec {
  std::string name;
  int64_t n_pre = 0, n_post = 0;
  ConnKind kind = ConnKind::Random;
  double p = 0;             ///< connection probability (Random)
  bool autapses = true;     ///< false: no synapse i -> i (same neuron, or same index)
  bool same_group = false;  ///< pre and post are the same population
  WeightKind weight = WeightKind::Constant;
  double w_a = 0, w_b = 0;  ///< Uniform: [a, b); Normal: mean a, std b
  int row_ptr_buffer = -1;  ///< I64 buffer of n_pre + 1 entries (allocated by runtime)
  int col_buffer = -1;      ///< I32 buffer of nnz entries (allocated by runtime)
  int weight_buffer = -1;   ///< F64 buffer of nnz entries, -1 when the weight is a constant
  int32_t pre_group = -1;   ///< SpikeGroupInfo id of the presynaptic group
  /// A synapse model's arrays: F64 per-synapse state (nnz entries each, zeroed; the
  /// module's init sets them), the incoming synapses of each postsynaptic neuron
  /// (col_ptr: I64 n_post + 1; in_synapse: I32 synapse ids, ascending) and the
  /// presynaptic neuron of each synapse (pre_of: I32). -1: not needed.
  std::vector<int> synapse_buffers;
  /// Presynaptic traces kept per synapse (delays drawn per synapse): F64 buffers and the I64
  /// steps of their last update, nnz entries each, zeroed; not reported as synapse state.
  std::vector<int> trace_buffers;
  int last_update_buffer = -1;
  int col_ptr_buffer = -1, in_synapse_buffer = -1, pre_of_buffer = -1;
  /// Delays: one for every synapse (delay_steps >= 1, queued per presynaptic neuron), or
  /// drawn per synapse uniformly in [delay_lo, delay_hi) seconds and rounded to whole steps
  /// into the I32 delay_buffer (queued per synapse). 0 / -1: no delay.
  int64_t delay_steps = 0;
  int delay_buffer = -1;
  double delay_lo = 0, delay_hi = 0;
};

/// A group that produces spikes: populations first, then Poisson sources.
struct SpikeGroupInfo {
  std::string name;
  int64_t size = 0;
  bool record = false;  ///< keep every spike (for the raster), not only the count
  int64_t record_begin = 0, record_end = -1;  ///< recorded neurons [begin, end); -1: all
};

/// A recorded state variable: the generated code reports the whole array each step.
struct TraceSpec {
  std::string group, var;
  std::vector<int64_t> neurons;  ///< indices to keep
};

struct SimSpec {
  std::vector<BufferSpec> buffers;
  std::vector<ConnectivitySpec> connections;
  std::vector<SpikeGroupInfo> groups;    ///< ids used by snnc_rt_spikes
  std::vector<int32_t> poisson_groups;   ///< source id -> group id (snnc_rt_poisson)
  std::vector<int32_t> stimulus_groups;  ///< stimulus source id -> group id (snnc_rt_stimulus)
  std::vector<TraceSpec> traces;         ///< ids used by snnc_rt_trace
  int64_t derived_count = 0;
  double dt = 1e-4;  ///< seconds
  int64_t steps = 0;
  uint64_t seed = 0;
};

struct RecordedSpikes {
  std::vector<int64_t> steps;
  std::vector<int32_t> neurons;
};

/// The synapses of a connection with a synapse model and their state at the end of a run.
struct SynapseArrays {
  std::string connection;
  std::vector<int64_t> row_ptr;  ///< CSR: n_pre + 1
  std::vector<int32_t> col;      ///< postsynaptic neuron of each synapse
  std::vector<std::pair<std::string, std::vector<double>>> vars;  ///< per-synapse state
};

struct SimResult {
  std::vector<int64_t> spike_counts;         ///< per group
  std::vector<RecordedSpikes> spikes;        ///< per group (empty unless recorded)
  std::vector<std::vector<double>> traces;   ///< per trace: steps x neurons, row-major
  std::vector<SynapseArrays> synapse_state;  ///< connections with a synapse model
  int64_t synapses = 0;                      ///< total synapses built
  int64_t synaptic_events = 0;               ///< spikes x out-degree, summed
  double build_seconds = 0;                  ///< connectivity + allocation
  double run_seconds = 0;                    ///< setup + init + all steps
};

struct SimFunctions {
  snnc_sim_setup_fn setup = nullptr;
  snnc_sim_init_fn init = nullptr;
  snnc_sim_run_fn run = nullptr;
};

/// Called after each chunk with (steps done, total steps).
using ProgressFn = std::function<void(int64_t, int64_t)>;

/// One simulation set up and ready to run: buffers allocated, connectivity built, the
/// module's setup and init done. Runs step ranges on demand, so that a protocol (a data
/// set shown sample by sample) can change stimulus rates and parameters between them.
class SimInstance {
 public:
  SimInstance(const SimSpec &spec, std::vector<double> params, const SimFunctions &fns);
  ~SimInstance();
  SimInstance(const SimInstance &) = delete;
  SimInstance &operator=(const SimInstance &) = delete;
  /// Advances steps [first, first + count).
  void run(int64_t first, int64_t count);
  /// Changes a run-time parameter (and recomputes what the module derives from them).
  void set_param(int slot, double value);
  /// The rates (Hz) of stimulus source `source`'s neurons, read at every step.
  std::vector<double> &stimulus_rates(int source);
  /// Adds each spike of `group` to (*counts)[neuron] from now on (null: stop counting it).
  void count_spikes(int32_t group, std::vector<int32_t> *counts);
  void *buffer(int slot) { return pointers_.at(slot); }
  const SimResult &result() const { return result_; }
  /// The result, with the final state of the synapse models' synapses.
  SimResult finish();
  struct FreeBlock {
    void operator()(void *p) const;
  };

 private:
  const SimSpec &spec_;
  SimFunctions fns_;
  std::vector<double> params_, derived_;
  std::vector<std::unique_ptr<void, FreeBlock>> blocks_;
  std::vector<void *> pointers_;
  std::unique_ptr<snnc_rt_ctx> ctx_;
  SimResult result_;
  void setup();
};

/// Runs one simulation. `params` are the run-time parameter values in SI units.
SimResult simulate(const SimSpec &spec, const std::vector<double> &params, const SimFunctions &fns,
                   const ProgressFn &progress = {});

/// Writes spikes.csv, traces.csv (when any) and raster.svg into `dir` (created if
/// missing); files are written to a temporary name and renamed, so they are complete
/// or absent. Throws std::runtime_error naming the path on failure.
void write_sim_outputs(const SimSpec &spec, const SimResult &result, const std::string &dir);

}  // namespace snnc::rt
