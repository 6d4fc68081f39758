// AST.h — the syntax tree of a .snn file, as written (before checking and lowering).
//
// Expressions reuse ir::Expr (literals keep their unit, e.g. `20ms` is Number 20 with
// unit "ms"); everything else is a plain struct with the source location of its name.
// The AST is printed by `snnc emit --ast`, checked by Sema and thrown away by LowerToIR.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "Diagnostics.h"
#include "Expr.h"

namespace snnc::ast {

using ir::ExprPtr;

/// A unit annotation as written (`mV`, `real`, `mV/ms`).
struct TypeRef {
  std::string text;
  SourceLoc loc;
};

/// `name: type = default` in a neuron header.
struct ParamDecl {
  std::string name;
  TypeRef type;
  ExprPtr default_value;  ///< may be null
  SourceLoc loc;
};

/// `state name: type = init`
struct StateDecl {
  std::string name;
  TypeRef type;
  ExprPtr init;  ///< may be null (zero)
  SourceLoc loc;
};

/// `input name: type`
struct InputDecl {
  std::string name;
  TypeRef type;
  SourceLoc loc;
};

/// `let name = expr` at neuron level: a named sub-expression (an alias).
struct LetDecl {
  std::string name;
  ExprPtr value;
  SourceLoc loc;
};

/// `dx/dt = rhs`
struct OdeDecl {
  std::string var;
  ExprPtr rhs;
  SourceLoc loc;
};

/// `x = e`, `x += e`, `x -= e` inside update/reset blocks.
struct Assign {
  std::string target;
  char op = '=';  ///< '=', '+', '-'
  ExprPtr value;
  SourceLoc loc;
};

/// A named argument `name = expr` (also used for positional ones, with name "").
struct Arg {
  std::string name;
  ExprPtr value;
  SourceLoc loc;
};

/// `surrogate fast_sigmoid(slope = 25)` (used by training; kept for later stages).
struct SurrogateRef {
  std::string name;
  std::vector<Arg> args;
  SourceLoc loc;
};

struct NeuronDef {
  std::string name;
  SourceLoc loc;
  ExprPtr output;  ///< `output = max(I, 0)`: a stateless activation (ANN cell)
  SourceLoc output_loc;
  std::vector<ParamDecl> params;
  std::vector<StateDecl> states;
  std::vector<InputDecl> inputs;
  std::vector<LetDecl> lets;
  std::vector<OdeDecl> odes;
  std::vector<Assign> update;  ///< `update { ... }` (discrete-time neurons)
  bool has_update = false;
  ExprPtr spike;  ///< `spike when cond`; null if absent
  SourceLoc spike_loc;
  std::optional<SurrogateRef> surrogate;
  std::vector<Assign> reset;  ///< `reset { ... }`
  ExprPtr refractory;         ///< `refractory t_ref` or `refractory v > -40mV`
  SourceLoc refractory_loc;
  std::string method;  ///< `method rk4`; "" = auto
  SourceLoc method_loc;
};

/// `pre apre: real = 0` / `post apost: real = 0` in a synapse: a trace kept once per
/// presynaptic / postsynaptic neuron, shared by all its synapses of the connection.
struct TraceDecl {
  enum Side { Pre, Post } side = Pre;
  std::string name;
  TypeRef type;
  ExprPtr init;  ///< may be null (zero)
  SourceLoc loc;
};

/// `synapse STDP(params) { state w ... pre apre ... on_pre { ... } on_post { ... } }`
struct SynapseDef {
  std::string name;
  SourceLoc loc;
  std::vector<ParamDecl> params;
  std::vector<StateDecl> states;  ///< per synapse
  std::vector<TraceDecl> traces;
  std::vector<LetDecl> lets;
  std::vector<OdeDecl> odes;  ///< of traces
  std::vector<Assign> on_pre, on_post;
  bool has_on_pre = false, has_on_post = false;
  SourceLoc on_pre_loc, on_post_loc;
};

/// `population E = 3200 of LIF(tau_m = 20ms)`
struct PopulationDecl {
  std::string name;
  ExprPtr size;
  std::string neuron;
  SourceLoc neuron_loc;
  std::vector<Arg> args;
  SourceLoc loc;
};

/// `source drive = current(amplitude = 0.5nA, start = 10ms)` or
/// `source noise = poisson(n = 100, rate = 10Hz)`
struct SourceDecl {
  std::string name;
  std::string kind;
  SourceLoc kind_loc;
  std::vector<Arg> args;
  SourceLoc loc;
};

/// A group reference in a connection or record, optionally a slice: `E`, `E[0:10]`, `E[3]`.
struct GroupRef {
  std::string name;
  std::optional<int64_t> begin, end;  ///< [begin, end)
  SourceLoc loc;
};

/// `connect E -> E, Inh (p = 0.02, w = 1.62mV, target = ge)`; `one_to_one` and
/// `all_to_all` appear as flag args with a null value.
struct ConnectDecl {
  std::vector<GroupRef> pre, post;
  std::vector<Arg> args;
  SourceLoc loc;
  std::string synapse;  ///< `with STDP(...)`: the synapse model, "" for a static connection
  std::vector<Arg> synapse_args;
  SourceLoc synapse_loc;
};

/// A value in an experiment setting or a layer argument: an expression (numbers,
/// quantities, names), a string literal, or a call with named/positional arguments
/// (`mnist("data/mnist")`, `Leaky(beta = 0.9)`, `adam(lr = 2e-3)`).
struct NamedValue;
struct Value {
  enum Kind { Expr, String, Call } kind = Expr;
  ExprPtr expr;                  ///< Expr
  std::string text;              ///< String: its contents (unescaped); Call: the callee
  std::vector<NamedValue> args;  ///< Call (name "" for positional)
  bool has_parens = false;       ///< Call written with parentheses
  SourceLoc loc;
};
struct NamedValue {
  std::string name;
  Value value;
  SourceLoc loc;
};

/// `input x: [1, 28, 28]` in a layer network.
struct TensorInputDecl {
  std::string name;
  std::vector<int64_t> shape;
  SourceLoc loc;
};

/// One stage of a pipeline: `linear(10)`, `conv2d(12, kernel = 5)`, `maxpool(2)`,
/// `flatten`, `cell` (a network parameter) or a neuron name `Leaky(beta = 0.9)`.
struct LayerStage {
  std::string name;
  std::vector<NamedValue> args;
  bool has_parens = false;
  SourceLoc loc;
};

/// `[output] name = source |> stage |> stage ...`
struct LayerDecl {
  std::string name;
  bool output = false;
  std::string source;  ///< an input or an earlier layer
  SourceLoc source_loc;
  std::vector<LayerStage> stages;
  SourceLoc loc;
};

struct NetworkDef {
  std::string name;
  SourceLoc loc;
  std::vector<ParamDecl> params;  ///< `network CSNN(cell: neuron = Leaky)`; TypeRef "neuron"
  std::vector<TensorInputDecl> inputs;
  std::vector<LayerDecl> layers;
  std::vector<PopulationDecl> populations;
  std::vector<SourceDecl> sources;
  std::vector<ConnectDecl> connections;
};

/// `record spikes(E, Inh)` or `record v(E[0:5])`
struct RecordDecl {
  std::string what;  ///< "spikes" or a state variable name
  std::vector<GroupRef> groups;
  SourceLoc loc;
};

/// `simulation cuba { network = CUBA  dt = 0.1ms  duration = 1s  seed = 1  record ... }`
struct SimulationDef {
  std::string name;
  SourceLoc loc;
  std::vector<Arg> settings;  ///< network, dt, duration, seed (network's value is a Var)
  std::vector<RecordDecl> records;
  /// `present(...)`, `learn(...)`, `classify(...)`: a data set shown sample by sample
  std::vector<NamedValue> protocol;
};

/// `experiment mnist_csnn { data = mnist("data/mnist")  train(epochs = 10, batch = 128) ... }`:
/// each item is `name = value` or a bare call `name(args)` (stored with name = callee).
struct ExperimentDef {
  std::string name;
  SourceLoc loc;
  std::vector<NamedValue> settings;
};

/// Experiments already lowered from this file (frontend/LowerExperiment.cpp), so that a
/// command lowers each once although Sema's check lowers them too.
struct LoweredExperiments;

struct File {
  std::vector<NeuronDef> neurons;
  std::vector<SynapseDef> synapses;
  std::vector<NetworkDef> networks;
  std::vector<SimulationDef> simulations;
  std::vector<ExperimentDef> experiments;
  mutable std::shared_ptr<LoweredExperiments> lowered;  ///< filled by lower_experiment
};

/// Indented textual dump for `snnc emit --ast` (stable; pinned by lit tests).
std::string print(const File &file);

}  // namespace snnc::ast
