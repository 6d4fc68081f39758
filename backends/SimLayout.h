// SimLayout.h — where every value of a lowered simulation lives at run time.
//
// Backends (LLVM now, CUDA later) and the runtime must agree on the slot of each
// run-time parameter in `double *params`, of each array in `void **buffers`, and of each
// propagator in `double *derived`. SimLayout computes that once from an optimized
// module; it also turns parameter values into the runtime's SimSpec (connectivity to
// build, groups, recordings) and parses `--set NAME=VALUE` overrides with units.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "IR.h"
#include "SampleProtocol.h"
#include "Simulation.h"

namespace snnc::backends {

/// A run-time parameter: `cuba.dt`, `E.tau_m`, `drive.amplitude`, `E_to_E.w`.
struct ParamSlot {
  std::string name;   ///< qualified name
  std::string owner;  ///< module, population, source or connection name
  std::string local;  ///< name inside the owner
  Dim dim;
  ir::ExprPtr value;  ///< default (may read earlier params of the same owner)
};

struct PopulationSlots {
  std::map<std::string, int> vars;  ///< state and input name -> buffer
  int flags = -1;                   ///< U8 spike flags of the last step
  int spikes = -1;                  ///< I32 indices of this step's spikes
  int derived = -1;                 ///< offset of the propagator in `derived`, -1 if none
  int group = -1;                   ///< spike group id
};

struct ConnectionSlots {
  int row_ptr = -1, col = -1, weight = -1;  ///< buffers (weight -1: constant)
  int weight_param = -1;                    ///< param slot of a constant weight
  int pre_group = -1;
  int index = -1;        ///< position in SimSpec::connections
  int delay_param = -1;  ///< param slot of a constant delay
  int delays = -1;       ///< I32 per-synapse delays in steps
  // a synapse model's arrays
  std::map<std::string, int> synapse_vars;  ///< per-synapse state -> F64 buffer (nnz)
  std::map<std::string, int> pre_traces;    ///< F64 buffer of n_pre
  std::map<std::string, int> post_traces;   ///< F64 buffer of n_post
  int pre_last = -1, post_last = -1;        ///< I64 step of each neuron's last trace update
  bool pre_traces_per_synapse = false;      ///< delays drawn per synapse: pre traces and
                                            ///< pre_last have one entry per synapse
  int col_ptr = -1, in_synapse = -1;        ///< incoming synapses per postsynaptic neuron
  int pre_of = -1;                          ///< I32 presynaptic neuron of each synapse
};

struct SimLayout {
  std::vector<ParamSlot> params;
  std::map<std::string, int> param_index;  ///< qualified name -> slot
  std::vector<rt::BufferSpec> buffers;
  std::map<std::string, PopulationSlots> populations;
  std::map<std::string, int> poisson_spikes;  ///< Poisson/stimulus source -> I32 index buffer
  std::map<std::string, int> poisson_id;      ///< source -> id for snnc_rt_poisson
  std::map<std::string, int> stimulus_id;     ///< source -> id for snnc_rt_stimulus
  std::map<std::string, ConnectionSlots> connections;
  std::vector<std::string> groups;  ///< spike group names, by id
  int64_t derived_count = 0;
  int dt_param = -1, duration_param = -1;
  int learning_param = -1;  ///< `learning` (1 while plasticity learns), -1: always 1

  /// Slot of `local` owned by `owner`, or -1.
  int param(const std::string &owner, const std::string &local) const;
  /// Spike group id of a population or Poisson source, or -1.
  int group_of(const std::string &name) const;
};

/// Computes the layout of a module that went through the default pipeline.
SimLayout make_layout(const ir::Module &m);

/// Neurons of a population or a spike source (0 if the module has no such group).
int64_t group_size(const ir::Module &m, const std::string &name);

/// Evaluates every parameter's value in SI units, applying `overrides` (qualified name
/// -> SI value) before the defaults that depend on them. Throws std::runtime_error.
std::vector<double> evaluate_params(const SimLayout &layout,
                                    const std::map<std::string, double> &overrides);

/// Parses `NAME=VALUE` (VALUE a number with an optional unit, e.g. `25ms`) and checks the
/// name and dimension against the layout. Returns the SI value or throws
/// std::runtime_error with a message naming the problem (and the closest known name).
std::pair<std::string, double> parse_override(const SimLayout &layout, const std::string &text);

/// The runtime description of one run with the given parameter values.
rt::SimSpec make_sim_spec(const ir::Module &m, const SimLayout &layout,
                          const std::vector<double> &params);

/// The runtime description of a module's protocol (m.protocol must be set).
rt::ProtocolSpec make_protocol_spec(const ir::Module &m, const SimLayout &layout,
                                    const std::vector<double> &params, const rt::SimSpec &spec);

}  // namespace snnc::backends
