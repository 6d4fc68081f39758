// IR.h — the simulation IR: a module of populations, sources and connections.
//
// Semantics of one time step n (t = n * dt), the contract every backend implements:
//   1. current sources add their amplitude to the input `I` of their target populations
//      when start <= t < stop;
//   2. every population runs its neuron update for all neurons: the state is advanced
//      from t to t + dt using the inputs accumulated for this step, `spiked` is the
//      neuron's spike flag from step n-1; then the threshold is tested (not while
//      refractory), spiking neurons are reset and start their refractory period, during
//      which the `clamp`ed state variables stay constant; the inputs are then cleared;
//   3. Poisson sources draw their spikes;
//   4. the spikes of step n are reported and propagated: each connection adds its weight
//      to the target variable (a state variable, or an input for step n+1) of every
//      postsynaptic neuron of each spiking presynaptic neuron. A connection with a delay of
//      d steps does so at step n + d instead. A connection with a synapse model runs its
//      `on_pre` block for every synapse of each presynaptic spike arriving at step n (in
//      connection order), then its `on_post` block for every incoming synapse of each
//      postsynaptic neuron that spiked at step n.
// A population starts with its neuron pieces separate (odes or a step block, threshold,
// reset, refractory); passes discretise the odes and fuse the pieces into one kernel.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "Expr.h"
#include "Units.h"

namespace snnc::ir {

struct Param {
  std::string name;
  Dim dim;
  ExprPtr value;  ///< default; may reference earlier params of the same owner
  SourceLoc loc;
};

struct StateVar {
  std::string name;
  Dim dim;
  ExprPtr init;  ///< per-neuron initial value (may call uniform/normal)
  SourceLoc loc;
};

struct InputVar {
  std::string name;
  Dim dim;
  SourceLoc loc;
};

/// `ode x = rhs` means dx/dt = rhs.
struct Ode {
  std::string var;
  ExprPtr rhs;
  SourceLoc loc;
};

/// A statement of a step/reset/kernel block.
///   Let:   a new local value;  Set: assign a state variable (or input);
///   Spike: the neuron's spike flag for this step is `value` (kernel blocks only).
struct Stmt {
  enum Kind { Let, Set, Spike } kind = Set;
  std::string name;
  ExprPtr value;
  SourceLoc loc;
};

/// Exact propagator of a linear system: at setup, `name` = [exp(A dt) | int_0^dt exp(A s) ds]
/// with A[i][j] = coefficient of vars[j] in d vars[i]/dt (expressions of params only).
struct Propagator {
  std::string name;
  std::vector<std::string> vars;
  std::vector<std::vector<ExprPtr>> a;
};

/// Integration methods a population may ask for (`auto` lets the compiler choose).
enum class Method { Auto, Exact, ExponentialEuler, RK4, Euler };
const char *method_name(Method m);
std::optional<Method> parse_method(const std::string &s);

struct Population {
  std::string name;
  std::string neuron;  ///< the neuron definition it instantiates
  int64_t size = 0;
  Method method = Method::Auto;
  std::vector<Param> params;
  std::vector<StateVar> states;
  std::vector<InputVar> inputs;
  std::vector<Ode> odes;                ///< before discretise-odes
  std::vector<Propagator> propagators;  ///< after discretise-odes (exact)
  std::vector<Stmt> step;               ///< discrete update (user's, or from discretise-odes)
  ExprPtr threshold;                    ///< null: never spikes
  std::vector<Stmt> reset;
  ExprPtr refractory;              ///< null: none
  std::vector<std::string> clamp;  ///< state held during the refractory period
  bool fused = false;              ///< after fuse-neuron-update: `kernel` holds all
  std::vector<Stmt> kernel;
  SourceLoc loc;
};

struct Source {
  /// Stimulus: Poisson trains whose per-neuron rates a protocol sets (0 otherwise).
  enum Kind { Current, Poisson, Stimulus } kind = Current;
  std::string name;
  int64_t size = 1;                  ///< Poisson: number of independent trains
  std::vector<Param> params;         ///< Current: amplitude, start, stop; Poisson: rate
  std::vector<std::string> targets;  ///< Current: "pop.input" it adds its amplitude to
  SourceLoc loc;
};

/// A synapse model on a connection: per-synapse state, traces kept once per presynaptic
/// (`pre_traces`) or postsynaptic (`post_traces`) neuron, their linear decays, and the
/// event blocks. Traces are integrated exactly when an event reads them (event-driven),
/// so a trace is stored with the step of its last update. Statements of `on_pre` set
/// synapse state, presynaptic traces or a variable of the postsynaptic neuron (`x = x +
/// ...`, a delivery); statements of `on_post` set synapse state or postsynaptic traces.
/// Statements that set a trace read only parameters and traces of the same side, so they
/// run once per spike, and every synapse sees the trace values its statement order gives.
struct TraceDecay {
  std::string var;
  ExprPtr rate;  ///< dvar/dt = rate * var, rate an expression of parameters (negative)
  SourceLoc loc;
};

struct SynapseModel {
  std::string name;  ///< the synapse definition
  std::vector<Param> params;
  std::vector<StateVar> states;  ///< per synapse (`w`, if present, starts at the weight)
  std::vector<StateVar> pre_traces, post_traces;
  std::vector<TraceDecay> decays;
  std::vector<Stmt> on_pre, on_post;
  SourceLoc loc;

  /// Which kind of name `n` is inside the model: 's' synapse state, 'a' presynaptic
  /// trace, 'b' postsynaptic trace, 'p' parameter, 0 otherwise (a postsynaptic variable).
  char kind_of(const std::string &n) const;
  const TraceDecay *decay_of(const std::string &trace) const;
};

struct Connection {
  enum Kind { AllToAll, OneToOne, Random } kind = AllToAll;
  std::string name, pre, post;
  std::string target;         ///< state variable or input of `post` ("" with a synapse model)
  ExprPtr p;                  ///< Random: probability (constant after folding)
  ExprPtr weight;             ///< a param-free expression or uniform(a, b)/normal(m, s)
  std::string weight_param;   ///< name of the run-time param holding a constant weight
  bool autapses = true;       ///< false: no synapse i -> i (the same neuron, or the same index)
  bool event_driven = false;  ///< after make-event-driven: CSR, propagated per spike
  /// null: none; a constant (run-time param `<name>.delay`, a whole number of steps >= 1)
  /// or uniform(a, b)/normal(m, s) drawn per synapse and rounded to steps
  ExprPtr delay;
  std::optional<SynapseModel> synapse;
  SourceLoc loc;

  /// Whether the delay is drawn per synapse (not one constant).
  bool per_synapse_delay() const;
};

struct Record {
  enum Kind { Spikes, Trace } kind = Spikes;
  std::string group, var;
  std::vector<int64_t> neurons;  ///< Trace: which neurons
  int64_t begin = 0, end = -1;   ///< Spikes: neurons [begin, end) (end -1: all)
  SourceLoc loc;
};

/// A data set shown sample by sample (Diehl & Cook 2015). Each sample's pixels set the
/// rates of stimulus source `source` (pixel / 255 * max_rate) for present_time, then it
/// rests silent for rest_time; a sample after which `count` fired fewer than
/// `repeat_below` spikes is shown again with max_rate raised by `boost`. Phases: learning
/// over `learn_images` training samples with `learning` = 1 (the weights `w` into each
/// neuron of connection `normalise` scaled to sum to normalise_total before every sample),
/// then with `learning` = 0 label assignment over `assign_images` training samples (each
/// neuron of `classify` takes the class it answers most on average) and evaluation over
/// `test_images` test samples (the class whose neurons answer most on average; with
/// `linear_readout`, instead a ridge-regression readout fitted to the assignment samples'
/// spike counts, reported beside the same readout fitted to the raw pixels). The
/// quantities are module parameters: max_rate, present_time, rest_time, boost,
/// normalise_total, learning.
struct Protocol {
  std::string source, data, count, normalise, classify;
  int64_t repeat_below = 0, learn_images = 0, assign_images = 0, test_images = 0;
  bool linear_readout = false;
  SourceLoc loc;
};

struct Module {
  std::string name;               ///< the simulation's name (run-time params `name.dt`...)
  std::vector<Param> sim_params;  ///< dt, duration
  uint64_t seed = 0;
  std::vector<Population> populations;
  std::vector<Source> sources;
  std::vector<Connection> connections;
  std::vector<Record> records;
  std::optional<Protocol> protocol;

  Population *find_population(const std::string &name);
  const Population *find_population(const std::string &name) const;
  const Source *find_source(const std::string &name) const;
};

}  // namespace snnc::ir
