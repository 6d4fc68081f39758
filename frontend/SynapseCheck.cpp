// SynapseCheck.cpp — synapse definitions and their uses (see SynapseCheck.h).
#include "SynapseCheck.h"

#include <map>

#include "ExprUtils.h"

namespace snnc::frontend {
namespace {

using namespace ast;

std::optional<Dim> type_dim(const TypeRef &t, DiagnosticEngine &diags) {
  return annotation_dim(t.text, t.loc, diags);
}

bool declare(NeuronScope &scope, const std::string &name, SourceLoc loc, Dim dim,
             DiagnosticEngine &diags) {
  return declare_name(scope, name, loc, dim, diags);
}

std::map<std::string, ExprPtr> lets_of(const SynapseDef &def) {
  std::map<std::string, ExprPtr> lets;
  for (const auto &l : def.lets) lets[l.name] = ir::substitute(l.value, lets);
  return lets;
}

}  // namespace

ir::ExprPtr linear_decay_rate(const ir::ExprPtr &rhs, const std::string &var,
                              const std::set<std::string> &params) {
  for (const auto &v : ir::free_vars(rhs))
    if (v != var && !params.count(v)) return nullptr;
  ir::ExprPtr rate = ir::differentiate(rhs, var);
  if (ir::depends_on(rate, {var})) return nullptr;
  // rhs must be rate * var exactly: no constant term
  ir::ExprPtr rest = ir::simplify(ir::substitute(rhs, {{var, ir::num(0)}}));
  if (!(rest->kind == ir::ExprKind::Number && rest->value == 0)) return nullptr;
  return rate;
}

SynapseScope check_synapse(const SynapseDef &def, DiagnosticEngine &diags) {
  SynapseScope out;
  NeuronScope &scope = out.names;
  DimensionChecker dc(diags);
  for (const auto &p : def.params) {
    auto d = type_dim(p.type, diags);
    if (p.default_value) {
      auto got = dc.infer(p.default_value, scope, false);
      if (d && got) dc.expect_dim(p.default_value, *got, *d, "default of '" + p.name + "'");
      if (!d && got && p.type.text.empty()) d = got;
    }
    if (p.name == "delay" || p.name == "p" || p.name == "target")
      diags.error(p.loc, "'" + p.name +
                             "' is a connection option; a synapse parameter cannot "
                             "have its name");
    declare(scope, p.name, p.loc, d.value_or(Dim::none()), diags);
    scope.params.insert(p.name);
  }
  NeuronScope init_scope = scope;  // initial values read parameters only
  for (const auto &s : def.states) {
    auto d = type_dim(s.type, diags);
    if (s.init)
      if (auto got = dc.infer(s.init, init_scope, true); d && got)
        dc.expect_dim(s.init, *got, *d, "initial value of '" + s.name + "'");
    declare(scope, s.name, s.loc, d.value_or(Dim::none()), diags);
    scope.states.insert(s.name);
  }
  for (const auto &t : def.traces) {
    auto d = type_dim(t.type, diags);
    if (t.init)
      if (auto got = dc.infer(t.init, init_scope, false); d && got)
        dc.expect_dim(t.init, *got, *d, "initial value of '" + t.name + "'");
    declare(scope, t.name, t.loc, d.value_or(Dim::none()), diags);
    (t.side == TraceDecl::Pre ? out.pre_traces : out.post_traces).insert(t.name);
  }
  for (const auto &l : def.lets) {
    // lets may read postsynaptic variables: checked with the blocks at each use
    if (declare(scope, l.name, l.loc, Dim::none(), diags)) scope.lets.insert(l.name);
  }
  std::set<std::string> ode_vars;
  for (const auto &o : def.odes) {
    bool trace = out.pre_traces.count(o.var) || out.post_traces.count(o.var);
    if (!trace) {
      if (scope.states.count(o.var))
        diags.error(o.loc, "'" + o.var + "' is per-synapse state; only traces ('pre " + o.var +
                               "' or 'post " + o.var + "') can have an ODE");
      else
        diags.error(o.loc, "'d" + o.var + "/dt' refers to '" + o.var +
                               "', which is not a trace of synapse '" + def.name + "'" +
                               did_you_mean(o.var, {out.pre_traces.begin(), out.pre_traces.end()}));
      continue;
    }
    if (!ode_vars.insert(o.var).second)
      diags.error(o.loc, "second equation for 'd" + o.var + "/dt'");
    auto got = dc.infer(o.rhs, scope, false);
    if (got)
      dc.expect_dim(o.rhs, *got, scope.dims.at(o.var) / Dim::base(2),
                    "right-hand side of 'd" + o.var + "/dt'");
    if (got && !linear_decay_rate(ir::substitute(o.rhs, lets_of(def)), o.var, scope.params))
      diags.error(o.rhs->loc,
                  "a trace's ODE must be a linear decay of the trace with parameter "
                  "coefficients, e.g. 'd" +
                      o.var + "/dt = -" + o.var + " / tau'");
  }
  if (!def.has_on_pre && !def.has_on_post)
    diags.warning(def.loc, "synapse '" + def.name +
                               "' has neither on_pre nor on_post; it does "
                               "nothing");
  return out;
}

void check_synapse_use(const SynapseDef &def, const SynapseScope &syn, const ConnectDecl &use,
                       const NeuronScope &post, const std::string &post_neuron, const Arg *weight,
                       std::optional<Dim> weight_dim, DiagnosticEngine &diags) {
  DimensionChecker dc(diags);
  // arguments: parameter overrides
  std::set<std::string> given;
  for (const auto &a : use.synapse_args) {
    if (a.name.empty()) {
      diags.error(a.loc, "arguments of a synapse model are named, e.g. " + def.name + "(" +
                             (def.params.empty() ? std::string("x") : def.params[0].name) +
                             " = ...)");
      continue;
    }
    if (!given.insert(a.name).second) diags.error(a.loc, "argument '" + a.name + "' given twice");
    if (!syn.names.params.count(a.name)) {
      diags.error(a.loc,
                  "synapse '" + def.name + "' has no parameter '" + a.name + "'" +
                      did_you_mean(a.name, {syn.names.params.begin(), syn.names.params.end()}));
      continue;
    }
    NeuronScope empty;
    if (auto got = dc.infer(a.value, empty, false))
      dc.expect_dim(a.value, *got, syn.names.dims.at(a.name), "argument '" + a.name + "'");
  }
  for (const auto &p : def.params)
    if (!p.default_value && !given.count(p.name))
      diags.error(use.synapse_loc, "parameter '" + p.name + "' of synapse '" + def.name +
                                       "' has no default; give it here, e.g. " + def.name + "(" +
                                       p.name + " = ...)");
  if (weight && weight_dim) {
    if (!syn.names.states.count("w"))
      diags.error(weight->loc, "synapse '" + def.name +
                                   "' has no per-synapse state 'w' for the connection's weight "
                                   "to start it");
    else if (*weight_dim != syn.names.dims.at("w"))
      diags.error(weight->value->loc, "weight has dimension '" + weight_dim->str() +
                                          "' but state 'w' of synapse '" + def.name +
                                          "' has dimension '" + syn.names.dims.at("w").str() + "'");
  }
  // the blocks see the synapse's names and the postsynaptic neuron's variables
  NeuronScope scope = syn.names;
  std::set<std::string> post_vars;
  for (const auto &n : post.states) post_vars.insert(n);
  for (const auto &n : post.inputs) post_vars.insert(n);
  for (const auto &n : post_vars) {
    if (scope.dims.count(n)) {
      diags.error(use.synapse_loc, "synapse '" + def.name + "' declares '" + n +
                                       "', which is also a variable of postsynaptic neuron '" +
                                       post_neuron + "'; rename one of them");
      return;
    }
    scope.dims[n] = post.dims.at(n);
    scope.states.insert(n);
  }
  for (const auto &l : def.lets)
    if (auto got = dc.infer(l.value, scope, false)) scope.dims[l.name] = *got;
  auto block = [&](const std::vector<Assign> &as, bool on_pre) {
    const std::string where = on_pre ? "on_pre" : "on_post";
    for (const auto &a : as) {
      auto got = dc.infer(a.value, scope, false);
      bool state = syn.names.states.count(a.target);
      bool pre = syn.pre_traces.count(a.target), postt = syn.post_traces.count(a.target);
      bool delivery = post_vars.count(a.target);
      if (!state && !pre && !postt && !delivery) {
        std::vector<std::string> names(syn.names.states.begin(), syn.names.states.end());
        names.insert(names.end(), syn.pre_traces.begin(), syn.pre_traces.end());
        names.insert(names.end(), syn.post_traces.begin(), syn.post_traces.end());
        names.insert(names.end(), post_vars.begin(), post_vars.end());
        diags.error(a.loc, "'" + a.target + "' in " + where +
                               " is not a state or trace of synapse '" + def.name +
                               "' or a variable of neuron '" + post_neuron + "'" +
                               did_you_mean(a.target, names));
        continue;
      }
      if (pre && !on_pre) {
        diags.error(a.loc, "'" + a.target +
                               "' is a presynaptic trace; it changes in on_pre, "
                               "not in on_post");
        continue;
      }
      if (postt && on_pre) {
        diags.error(a.loc, "'" + a.target +
                               "' is a postsynaptic trace; it changes in on_post, "
                               "not in on_pre");
        continue;
      }
      if (delivery && !on_pre) {
        diags.error(a.loc, "on_post cannot change '" + a.target + "' of neuron '" + post_neuron +
                               "'; spikes are delivered in on_pre");
        continue;
      }
      if (delivery && a.op == '=') {
        diags.error(a.loc, "a synapse adds to '" + a.target + "' of neuron '" + post_neuron +
                               "' (write '" + a.target +
                               " += ...'), since many synapses "
                               "deliver to one neuron");
        continue;
      }
      if (got)
        dc.expect_dim(a.value, *got, scope.dims.at(a.target),
                      "value assigned to '" + a.target + "'");
      if (pre || postt) {
        // updated once per spike: reads only its side's traces and parameters
        std::map<std::string, ExprPtr> lets = lets_of(def);
        const std::set<std::string> &side = pre ? syn.pre_traces : syn.post_traces;
        for (const auto &v : ir::free_vars(ir::substitute(a.value, lets)))
          if (!side.count(v) && !syn.names.params.count(v) && v != "dt")
            diags.error(a.value->loc, "the trace '" + a.target +
                                          "' changes once per spike and may read only "
                                          "parameters and " +
                                          (pre ? "presynaptic" : "postsynaptic") +
                                          " traces, not '" + v + "'");
      }
    }
  };
  block(def.on_pre, true);
  block(def.on_post, false);
}

}  // namespace snnc::frontend
