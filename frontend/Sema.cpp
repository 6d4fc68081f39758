// Sema.cpp — name resolution and dimension checking over the AST.
#include "Sema.h"

#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "DimensionChecker.h"
#include "LowerExperiment.h"
#include "LowerModel.h"
#include "Protocol.h"
#include "SynapseCheck.h"
#include "Units.h"
#include "passes/Autodiff.h"

namespace snnc::frontend {
namespace {

using namespace ast;

class Sema {
 public:
  explicit Sema(DiagnosticEngine &d) : diags_(d) {}

  bool run(const File &f) {
    int before = diags_.error_count();
    file_ = &f;
    std::set<std::string> names;
    auto unique = [&](const std::string &name, SourceLoc loc, const char *what) {
      if (!names.insert(name).second)
        diags_.error(loc, std::string("duplicate definition of ") + what + " '" + name + "'");
    };
    for (const auto &n : f.neurons) unique(n.name, n.loc, "neuron");
    for (const auto &n : f.synapses) unique(n.name, n.loc, "synapse");
    for (const auto &n : f.networks) unique(n.name, n.loc, "network");
    for (const auto &s : f.simulations) unique(s.name, s.loc, "simulation");
    for (const auto &n : f.neurons) {
      neurons_[n.name] = &n;
      neuron(n);
    }
    for (const auto &n : f.synapses) {
      synapses_[n.name] = &n;
      synapse_scopes_[n.name] = check_synapse(n, diags_);
    }
    for (const auto &n : f.networks) {
      networks_[n.name] = &n;
      network(n);
    }
    for (const auto &s : f.simulations) simulation(s);
    return diags_.error_count() == before;
  }

 private:
  DiagnosticEngine &diags_;
  const File *file_ = nullptr;
  std::map<std::string, const NeuronDef *> neurons_;
  std::map<std::string, const NetworkDef *> networks_;
  std::map<std::string, NeuronScope> scopes_;  // per neuron, for population/connection checks
  std::map<std::string, const SynapseDef *> synapses_;
  std::map<std::string, SynapseScope> synapse_scopes_;

  std::optional<Dim> type_dim(const TypeRef &t) { return annotation_dim(t.text, t.loc, diags_); }

  /// The first use of t, dt, spiked or lastspike in `e`, or null.
  static const ir::Expr *reads_builtin(const ExprPtr &e) {
    if (!e) return nullptr;
    if (e->kind == ir::ExprKind::Var && is_builtin(e->name)) return e.get();
    for (const auto &a : e->args)
      if (const ir::Expr *found = reads_builtin(a)) return found;
    return nullptr;
  }

  /// Parameter-like values are computed once before the run: they cannot read the time,
  /// and a constant one must be a number (not 0/0 or 1/0).
  void fixed_value(const ExprPtr &e, const std::string &what) {
    if (const ir::Expr *b = reads_builtin(e)) {
      diags_.error(
          b->loc, what + " reads '" + b->name + "', but it is computed once before the run starts");
      return;
    }
    DimensionChecker dc(diags_);
    if (auto v = dc.constant_value(e); v && !std::isfinite(*v))
      diags_.error(e->loc, what + " evaluates to " + ir::format_number(*v));
  }

  /// A negative time or capacitance makes a neuron's dynamics diverge.
  void not_negative(const ExprPtr &e, const Dim &dim, const std::string &what) {
    static const Dim farad = parse_unit("F")->dim;
    if (dim != Dim::base(2) && dim != farad) return;
    DimensionChecker dc(diags_);
    if (auto v = dc.constant_value(e); v && *v < 0)
      diags_.error(e->loc, what + " is a negative " + (dim == farad ? "capacitance" : "time"));
  }

  bool declare(NeuronScope &scope, const std::string &name, SourceLoc loc, Dim dim) {
    return declare_name(scope, name, loc, dim, diags_);
  }

  void neuron(const NeuronDef &n) {
    NeuronScope &scope = scopes_[n.name];
    DimensionChecker dc(diags_);
    for (const auto &p : n.params) {
      auto d = type_dim(p.type);
      if (p.default_value) {
        auto got = dc.infer(p.default_value, scope, false);
        if (d && got) dc.expect_dim(p.default_value, *got, *d, "default of '" + p.name + "'");
        if (!d && got && p.type.text.empty()) d = got;
        fixed_value(p.default_value, "default of '" + p.name + "'");
        if (d) not_negative(p.default_value, *d, "default of '" + p.name + "'");
      }
      declare(scope, p.name, p.loc, d.value_or(Dim::none()));
      scope.params.insert(p.name);
    }
    // inputs first so that state initial values cannot read them but dynamics can
    for (const auto &in : n.inputs) {
      auto d = type_dim(in.type);
      declare(scope, in.name, in.loc, d.value_or(Dim::none()));
      scope.inputs.insert(in.name);
    }
    // initial values see the parameters only (built once: a copy per state is quadratic)
    NeuronScope init_scope;
    for (const auto &p : scope.params) init_scope.dims[p] = scope.dims[p];
    init_scope.params = scope.params;
    init_scope.order = scope.order;
    for (const auto &s : n.states) {
      auto d = type_dim(s.type);
      if (s.init) {
        auto got = dc.infer(s.init, init_scope, true);
        if (d && got) dc.expect_dim(s.init, *got, *d, "initial value of '" + s.name + "'");
      }
      if (declare(scope, s.name, s.loc, d.value_or(Dim::none())))
        init_scope.order.push_back(s.name);  // for "did you mean" only
      scope.states.insert(s.name);
    }
    state_limit(n);
    if (!scope.dims.count("I") && uses_name(n, "I")) {
      scope.dims["I"] = Dim::none();  // implicit dimensionless input
      scope.inputs.insert("I");
    }
    for (const auto &l : n.lets) {
      auto got = dc.infer(l.value, scope, false);
      if (declare(scope, l.name, l.loc, got.value_or(Dim::none()))) scope.lets.insert(l.name);
    }
    if (!n.odes.empty() && n.has_update)
      diags_.error(n.odes.front().loc,
                   "neuron '" + n.name + "' has both odes and an update block; use one");
    std::set<std::string> ode_vars;
    for (const auto &o : n.odes) {
      auto it = scope.dims.find(o.var);
      if (!scope.states.count(o.var)) {
        diags_.error(o.loc, "'d" + o.var + "/dt' refers to '" + o.var +
                                "', which is not a state variable" +
                                did_you_mean(o.var, {scope.states.begin(), scope.states.end()}));
        dc.infer(o.rhs, scope, false);
        continue;
      }
      if (!ode_vars.insert(o.var).second)
        diags_.error(o.loc, "second equation for 'd" + o.var + "/dt'");
      auto got = dc.infer(o.rhs, scope, false);
      if (got)
        dc.expect_dim(o.rhs, *got, it->second / Dim::base(2),
                      "right-hand side of 'd" + o.var + "/dt'");
    }
    assignments(n.update, scope, dc, "update");
    if (n.output) {
      dc.infer(n.output, scope, false);
      if (n.spike || n.has_update || !n.odes.empty())
        diags_.error(n.output_loc,
                     "a neuron with `output = ...` is a stateless activation; it cannot also have "
                     "dynamics or a spike condition");
    }
    if (n.spike) {
      auto got = dc.infer(n.spike, scope, false);
      if (got && !is_condition(n.spike))
        diags_.error(n.spike->loc,
                     "the spike condition must be a comparison, e.g. 'spike when v > v_th'");
    }
    assignments(n.reset, scope, dc, "reset");
    if (n.refractory) {
      auto got = dc.infer(n.refractory, scope, false);
      if (got && !is_condition(n.refractory) && *got != Dim::base(2))
        diags_.error(n.refractory->loc,
                     "'refractory' takes a duration (e.g. 2ms) or a condition "
                     "(e.g. v > -40mV), not a value of dimension '" +
                         got->str() + "'");
    }
    if (!n.method.empty() && n.method != "auto" && n.method != "exact" &&
        n.method != "exponential_euler" && n.method != "rk4" && n.method != "euler") {
      diags_.error(n.method_loc, "unknown integration method '" + n.method + "'" +
                                     did_you_mean(n.method, {"auto", "exact", "exponential_euler",
                                                             "rk4", "euler"}));
    }
    if (n.states.empty() && n.odes.empty() && !n.has_update && !n.spike && !n.output)
      diags_.warning(n.loc, "neuron '" + n.name + "' has no dynamics and never spikes");
  }

  /// A linear system of n states is integrated by a dense n x n propagator (n^2 memory,
  /// n^3 time per run); far beyond any neuron model, so refuse rather than run out.
  static constexpr size_t kMaxStates = 512;

  void state_limit(const NeuronDef &n) {
    if (n.states.size() <= kMaxStates) return;
    diags_.error(n.states[kMaxStates].loc,
                 "neuron '" + n.name + "' has " + std::to_string(n.states.size()) +
                     " state variables; at most " + std::to_string(kMaxStates) + " are supported");
  }

  void assignments(const std::vector<Assign> &as, NeuronScope &scope, DimensionChecker &dc,
                   const char *where) {
    for (const auto &a : as) {
      auto got = dc.infer(a.value, scope, false);
      if (!scope.states.count(a.target)) {
        diags_.error(a.loc, std::string("'") + a.target + "' in " + where +
                                " is not a state variable" +
                                did_you_mean(a.target, {scope.states.begin(), scope.states.end()}));
        continue;
      }
      if (got)
        dc.expect_dim(a.value, *got, scope.dims[a.target], "value assigned to '" + a.target + "'");
    }
  }

  static bool uses_name(const NeuronDef &n, const std::string &name) {
    std::function<bool(const ExprPtr &)> has = [&](const ExprPtr &e) {
      if (!e) return false;
      if (e->kind == ir::ExprKind::Var && e->name == name) return true;
      for (const auto &a : e->args)
        if (has(a)) return true;
      return false;
    };
    for (const auto &o : n.odes)
      if (has(o.rhs)) return true;
    for (const auto &a : n.update)
      if (has(a.value)) return true;
    for (const auto &a : n.reset)
      if (has(a.value)) return true;
    for (const auto &l : n.lets)
      if (has(l.value)) return true;
    return has(n.spike) || has(n.refractory) || has(n.output);
  }

  // ---- networks ----
  struct Group {
    enum Kind { Population, Current, Poisson } kind;
    bool stimulus = false;  ///< a Poisson source whose rates a protocol sets
    const NeuronDef *neuron = nullptr;
    int64_t size = 0;
    std::optional<Dim> amplitude;
  };

  std::map<std::string, Group> groups_;
  std::map<std::string, std::map<std::string, Group>> network_groups_;

  std::optional<double> constant(const ExprPtr &e, const char *what) {
    DimensionChecker dc(diags_);
    NeuronScope empty;
    auto d = dc.infer(e, empty, false);
    if (!d) return std::nullopt;
    if (auto v = dc.constant_value(e)) return v;
    diags_.error(e->loc, std::string(what) + " must be a constant");
    return std::nullopt;
  }

  /// Layers are trained; populations, sources and connections are simulated. A network is
  /// one or the other (the training path would ignore the rest).
  void layers_or_populations(const NetworkDef &net) {
    if (net.layers.empty() && net.inputs.empty()) return;
    SourceLoc loc = !net.populations.empty()   ? net.populations.front().loc
                    : !net.sources.empty()     ? net.sources.front().loc
                    : !net.connections.empty() ? net.connections.front().loc
                                               : SourceLoc{};
    if (net.populations.empty() && net.sources.empty() && net.connections.empty()) return;
    diags_.error(loc, "network '" + net.name +
                          "' has layers; populations, sources and connections belong in a "
                          "network of their own (a simulation's)");
  }

  void network(const NetworkDef &net) {
    layers_or_populations(net);
    groups_.clear();
    auto add_group = [&](const std::string &name, SourceLoc loc, Group g) {
      if (groups_.count(name))
        diags_.error(loc, "duplicate group '" + name + "' in network '" + net.name + "'");
      else
        groups_[name] = g;
    };
    for (const auto &p : net.populations) {
      Group g{Group::Population};
      if (auto v = constant(p.size, "a population size")) {
        if (*v < 1 || *v != std::floor(*v) || *v > 1e9)
          diags_.error(p.size->loc,
                       "population size must be a positive integer, got " + ir::format_number(*v));
        g.size = static_cast<int64_t>(*v);
      }
      auto it = neurons_.find(p.neuron);
      if (it == neurons_.end()) {
        std::vector<std::string> known;
        for (auto &[k, _] : neurons_) known.push_back(k);
        diags_.error(p.neuron_loc,
                     "unknown neuron '" + p.neuron + "'" + did_you_mean(p.neuron, known));
      } else {
        g.neuron = it->second;
        population_args(p, *it->second);
      }
      add_group(p.name, p.loc, g);
    }
    for (const auto &s : net.sources) source(s, add_group);
    for (const auto &c : net.connections) connection(c);
    network_groups_[net.name] = groups_;
  }

  void population_args(const PopulationDecl &p, const NeuronDef &n) {
    NeuronScope &scope = scopes_[n.name];
    DimensionChecker dc(diags_);
    std::set<std::string> seen;
    for (const auto &a : p.args) {
      if (a.name.empty()) {
        diags_.error(a.loc, "neuron arguments must be named, e.g. " + n.name + "(tau_m = 20ms)");
        continue;
      }
      if (!seen.insert(a.name).second)
        diags_.error(a.loc, "parameter '" + a.name + "' given twice");
      if (!scope.params.count(a.name)) {
        diags_.error(a.loc, "neuron '" + n.name + "' has no parameter '" + a.name + "'" +
                                did_you_mean(a.name, {scope.params.begin(), scope.params.end()}));
        continue;
      }
      NeuronScope params_only;
      for (const auto &q : scope.params) params_only.dims[q] = scope.dims[q];
      params_only.params = scope.params;
      auto got = dc.infer(a.value, params_only, false);
      if (!got) continue;
      std::string what = "value of parameter '" + a.name + "'";
      dc.expect_dim(a.value, *got, scope.dims[a.name], what);
      fixed_value(a.value, what);
      not_negative(a.value, scope.dims[a.name], what);
    }
  }

  template <typename AddGroup>
  void source(const SourceDecl &s, AddGroup &add_group) {
    static const std::map<std::string, std::map<std::string, std::optional<Dim>>> known = {
        {"current", {{"amplitude", std::nullopt}, {"start", Dim::base(2)}, {"stop", Dim::base(2)}}},
        {"poisson", {{"rate", Dim::base(2, -1)}, {"n", Dim::none()}}},
        {"stimulus", {{"n", Dim::none()}}}};
    auto kind = known.find(s.kind);
    if (kind == known.end()) {
      diags_.error(s.kind_loc, "unknown source kind '" + s.kind + "'" +
                                   did_you_mean(s.kind, {"current", "poisson", "stimulus"}));
      return;
    }
    Group g{s.kind == "current" ? Group::Current : Group::Poisson};
    g.stimulus = s.kind == "stimulus";
    g.size = 1;
    DimensionChecker dc(diags_);
    NeuronScope empty;
    std::set<std::string> seen;
    for (const auto &a : s.args) {
      std::string name = a.name;
      if (name.empty())  // the first positional argument
        name = s.kind == "current" ? "amplitude" : s.kind == "poisson" ? "rate" : "n";
      if (!seen.insert(name).second) diags_.error(a.loc, "argument '" + name + "' given twice");
      auto spec = kind->second.find(name);
      if (spec == kind->second.end()) {
        std::vector<std::string> names;
        for (auto &[k, _] : kind->second) names.push_back(k);
        diags_.error(a.loc,
                     s.kind + " source has no argument '" + name + "'" + did_you_mean(name, names));
        continue;
      }
      auto got = dc.infer(a.value, empty, false);
      if (!got) continue;
      fixed_value(a.value, "argument '" + name + "'");
      if (spec->second)
        dc.expect_dim(a.value, *got, *spec->second, "argument '" + name + "'");
      else
        g.amplitude = got;
      if (name == "n") {
        auto v = dc.constant_value(a.value);
        if (!v || *v < 1 || *v != std::floor(*v))
          diags_.error(a.value->loc, "'n' must be a positive integer");
        else
          g.size = static_cast<int64_t>(*v);
      }
    }
    const char *required = s.kind == "current" ? "amplitude" : s.kind == "poisson" ? "rate" : "n";
    if (!seen.count(required))
      diags_.error(s.loc, s.kind + " source '" + s.name + "' needs '" + required + "'");
    add_group(s.name, s.loc, g);
  }

  const Group *group(const GroupRef &r) {
    if (r.begin)
      diags_.error(r.loc, "slices select neurons for recording only; connect whole groups");
    auto it = groups_.find(r.name);
    if (it != groups_.end()) return &it->second;
    std::vector<std::string> known;
    for (auto &[k, _] : groups_) known.push_back(k);
    diags_.error(r.loc, "unknown group '" + r.name + "'" + did_you_mean(r.name, known));
    return nullptr;
  }

  void connection(const ConnectDecl &c) {
    std::vector<const Group *> pres, posts;
    for (const auto &r : c.pre) pres.push_back(group(r));
    for (const auto &r : c.post) {
      const Group *g = group(r);
      if (g && g->kind != Group::Population) {
        diags_.error(r.loc, "'" + r.name + "' is a source; connections must end at a population");
        g = nullptr;
      }
      posts.push_back(g);
    }
    DimensionChecker dc(diags_);
    NeuronScope empty;
    std::string target;
    const Arg *weight = nullptr;
    int kinds = 0;
    std::set<std::string> seen;
    for (const auto &a : c.args) {
      if (!seen.insert(a.name).second)
        diags_.error(a.loc, "connection option '" + a.name + "' given twice");
      if ((a.name == "p" || a.name == "w" || a.name == "target" || a.name == "delay") && !a.value) {
        diags_.error(a.loc, "'" + a.name + "' needs a value, e.g. " +
                                (a.name == "p"       ? "p = 0.02"
                                 : a.name == "w"     ? "w = 1mV"
                                 : a.name == "delay" ? "delay = 1ms"
                                                     : "target = ge"));
        continue;
      }
      if (a.name == "one_to_one" || a.name == "all_to_all" || a.name == "no_autapses" ||
          a.name == "except_same_index") {
        if (a.value) diags_.error(a.loc, "'" + a.name + "' takes no value");
        if (a.name != "no_autapses" && a.name != "except_same_index") ++kinds;
      } else if (a.name == "p") {
        ++kinds;
        if (auto v = constant(a.value, "the connection probability"); v && !(*v >= 0 && *v <= 1))
          diags_.error(a.value->loc, "connection probability must be between 0 and 1, got " +
                                         ir::format_number(*v));
      } else if (a.name == "w") {
        weight = &a;
      } else if (a.name == "delay") {
        delay(a);
      } else if (a.name == "target") {
        if (!a.value || a.value->kind != ir::ExprKind::Var)
          diags_.error(a.loc, "'target' names a state variable or input, e.g. target = ge");
        else
          target = a.value->name;
      } else {
        diags_.error(a.loc,
                     "unknown connection option '" +
                         (a.name.empty() ? std::string("(positional)") : a.name) + "'" +
                         did_you_mean(a.name, {"p", "w", "target", "delay", "one_to_one",
                                               "all_to_all", "no_autapses", "except_same_index"}));
      }
    }
    if (kinds > 1) diags_.error(c.loc, "choose one of p = ..., one_to_one, all_to_all");
    const SynapseDef *model = nullptr;
    if (!c.synapse.empty()) {
      model = synapse_model(c);
      if (model && !target.empty())
        diags_.error(c.loc, "a connection with synapse '" + c.synapse +
                                "' delivers in its on_pre block; remove 'target'");
    }
    if (seen.count("one_to_one")) equal_sizes(c, pres, posts, "one_to_one");
    std::optional<Dim> wdim;
    if (weight) wdim = dc.infer(weight->value, empty, true);
    if (wdim) fixed_value(weight->value, "the weight");
    no_autapses_between_others(c);
    if (seen.count("except_same_index")) {
      if (seen.count("one_to_one"))
        diags_.error(c.loc, "'except_same_index' with 'one_to_one' leaves no synapse");
      equal_sizes(c, pres, posts, "except_same_index");
    }
    for (size_t i = 0; i < pres.size(); ++i) {
      if (!pres[i]) continue;
      bool current = pres[i]->kind == Group::Current;
      if (current && (weight || kinds))
        diags_.error(c.loc, "a current source takes only 'target'; its amplitude is the weight");
      if (current && !c.synapse.empty()) {
        diags_.error(c.synapse_loc, "a current source has no spikes for a synapse model to act on");
        continue;
      }
      if (current && seen.count("delay"))
        diags_.error(c.loc, "a current source is not delayed; 'delay' applies to spikes");
      if (!c.synapse.empty()) {
        for (size_t j = 0; j < posts.size(); ++j)
          if (model && posts[j] && posts[j]->neuron)
            check_synapse_use(*model, synapse_scopes_.at(model->name), c,
                              scopes_[posts[j]->neuron->name], posts[j]->neuron->name, weight, wdim,
                              diags_);
        continue;
      }
      for (size_t j = 0; j < posts.size(); ++j) {
        const Group *post = posts[j];
        if (!post || !post->neuron) continue;
        const NeuronScope &scope = scopes_[post->neuron->name];
        std::string t = target.empty() ? (scope.inputs.count("I") ? "I" : "") : target;
        if (t.empty()) {
          diags_.error(
              c.loc,
              "neuron '" + post->neuron->name +
                  "' has no input 'I'; say which variable the connection targets (target = ...)");
          continue;
        }
        if (!scope.states.count(t) && !scope.inputs.count(t)) {
          std::vector<std::string> names(scope.states.begin(), scope.states.end());
          names.insert(names.end(), scope.inputs.begin(), scope.inputs.end());
          diags_.error(c.loc, "'" + t + "' is not a state variable or input of neuron '" +
                                  post->neuron->name + "'" + did_you_mean(t, names));
          continue;
        }
        if (current && scope.states.count(t))
          diags_.error(c.loc, "a current source must target an input, not state '" + t + "'");
        Dim tdim = scope.dims.at(t);
        std::optional<Dim> src = current ? pres[i]->amplitude : wdim;
        if (!current && !weight) {
          diags_.error(c.loc, "connection needs a weight 'w = ...'");
          break;
        }
        if (src && *src != tdim)
          diags_.error(current ? c.loc : weight->value->loc,
                       std::string(current ? "amplitude" : "weight") + " has dimension '" +
                           src->str() + "' but '" + t + "' of '" + c.post[j].name +
                           "' has dimension '" + tdim.str() + "'");
      }
    }
  }

  /// `with Model(...)`: a synapse definition (not a neuron, not unknown).
  const SynapseDef *synapse_model(const ConnectDecl &c) {
    auto it = synapses_.find(c.synapse);
    if (it != synapses_.end()) return it->second;
    if (neurons_.count(c.synapse)) {
      diags_.error(c.synapse_loc, "'" + c.synapse + "' is a neuron; 'with' takes a synapse model");
      return nullptr;
    }
    std::vector<std::string> known;
    for (auto &[k, _] : synapses_) known.push_back(k);
    diags_.error(c.synapse_loc,
                 "unknown synapse '" + c.synapse + "'" + did_you_mean(c.synapse, known));
    return nullptr;
  }

  /// `delay = 2ms` or `delay = uniform(1ms, 20ms)`: a time, fixed before the run.
  void delay(const Arg &a) {
    DimensionChecker dc(diags_);
    NeuronScope empty;
    auto d = dc.infer(a.value, empty, true);
    if (!d) return;
    dc.expect_dim(a.value, *d, Dim::base(2), "the delay");
    fixed_value(a.value, "the delay");
    if (auto v = dc.constant_value(a.value); v && *v <= 0)
      diags_.error(a.value->loc, "a delay must be positive (at least one time step)");
    if (a.value->kind == ir::ExprKind::Call && a.value->name != "uniform") {
      diags_.error(a.value->loc, "delays drawn per synapse use uniform(a, b)");
      return;
    }
    if (a.value->kind == ir::ExprKind::Call)
      for (const auto &arg : a.value->args)
        if (auto v = dc.constant_value(arg); v && *v <= 0)
          diags_.error(arg->loc, "delays are drawn from positive times (at least one time step)");
  }

  /// one_to_one joins neuron i to neuron i: both groups have the same size.
  void equal_sizes(const ConnectDecl &c, const std::vector<const Group *> &pres,
                   const std::vector<const Group *> &posts, const std::string &what) {
    for (size_t i = 0; i < pres.size(); ++i)
      for (size_t j = 0; j < posts.size(); ++j) {
        if (!pres[i] || !posts[j] || pres[i]->kind == Group::Current) continue;
        if (pres[i]->size == posts[j]->size || !pres[i]->size || !posts[j]->size) continue;
        diags_.error(c.loc, what + " joins groups of equal size; '" + c.pre[i].name + "' has " +
                                std::to_string(pres[i]->size) + " neurons and '" + c.post[j].name +
                                "' has " + std::to_string(posts[j]->size));
      }
  }

  /// `no_autapses` removes i -> i synapses, which exist only from a group to itself.
  void no_autapses_between_others(const ConnectDecl &c) {
    const Arg *flag = nullptr;
    for (const auto &a : c.args)
      if (a.name == "no_autapses") flag = &a;
    if (!flag) return;
    for (const auto &pre : c.pre)
      for (const auto &post : c.post)
        if (pre.name == post.name) return;
    diags_.error(flag->loc, "'no_autapses' applies to a connection from a group to itself; '" +
                                c.pre.front().name + "' and '" + c.post.front().name +
                                "' are different groups");
  }

  // ---- simulations ----
  void simulation(const SimulationDef &s) {
    const NetworkDef *net = nullptr;
    std::set<std::string> seen;
    DimensionChecker dc(diags_);
    NeuronScope empty;
    std::optional<std::pair<double, SourceLoc>> dt, duration;
    for (const auto &a : s.settings) {
      if (!seen.insert(a.name).second) diags_.error(a.loc, "setting '" + a.name + "' given twice");
      if (a.name == "network") {
        if (a.value->kind != ir::ExprKind::Var) {
          diags_.error(a.value->loc, "'network' names a network");
          continue;
        }
        auto it = networks_.find(a.value->name);
        if (it == networks_.end()) {
          std::vector<std::string> known;
          for (auto &[k, _] : networks_) known.push_back(k);
          diags_.error(a.value->loc, "unknown network '" + a.value->name + "'" +
                                         did_you_mean(a.value->name, known));
        } else {
          net = it->second;
        }
      } else if (a.name == "dt" || a.name == "duration") {
        auto got = dc.infer(a.value, empty, false);
        if (got) dc.expect_dim(a.value, *got, Dim::base(2), "'" + a.name + "'");
        auto v = dc.constant_value(a.value);
        if (got && (!v || !(*v > 0) || std::isinf(*v)))
          diags_.error(a.value->loc, "'" + a.name + "' must be a positive constant time");
        else if (got)
          (a.name == "dt" ? dt : duration) = {*v, a.value->loc};
      } else if (a.name == "seed") {
        auto v = dc.constant_value(a.value);
        if (!v || *v < 0 || *v != std::floor(*v) || *v > 9e15)
          diags_.error(a.value->loc, "'seed' must be a non-negative integer");
      } else {
        diags_.error(a.loc, "unknown simulation setting '" + a.name + "'" +
                                did_you_mean(a.name, {"network", "dt", "duration", "seed"}));
      }
    }
    for (const char *req : {"network", "dt", "duration"})
      if (!seen.count(req) && !(s.protocol.size() && std::string(req) == "duration"))
        diags_.error(s.loc, std::string("simulation '") + s.name + "' needs '" + req + " = ...'");
    if (dt && duration) step_count(dt->first, duration->first, dt->second);
    if (!net) return;
    groups_ = network_groups_[net->name];
    for (const auto &r : s.records) record(r);
    if (!s.protocol.empty())
      for (const auto &r : s.records)
        if (r.what != "spikes")
          diags_.error(r.loc,
                       "a simulation with a protocol runs as long as its samples take; "
                       "record spikes, not state traces");
    ProtocolNames names;
    for (const auto &[name, g] : groups_)
      names.groups[name] = g.kind == Group::Population ? 'p' : g.stimulus ? 's' : 'o';
    names.connections = connection_names(*file_, *net);
    check_protocol(s, names, diags_);
    if (dt)
      for (const auto &c : net->connections)
        for (const auto &a : c.args)
          if (a.name == "delay" && a.value) delay_in_steps(a.value, dt->first);
  }

  /// A delay is a whole number of steps, at least one: checked against the simulation's dt
  /// (again at run time, where `--set` may change either).
  void delay_in_steps(const ExprPtr &delay, double dt) {
    DimensionChecker dc(diags_);
    const bool drawn = delay->kind == ir::ExprKind::Call;
    const ExprPtr &low = drawn && !delay->args.empty() ? delay->args[0] : delay;
    auto v = dc.constant_value(low);
    if (!v) return;
    if (*v < dt * (1 - 1e-9)) {
      diags_.error(low->loc, "delay " + ir::format_number(*v * 1e3) + " ms is below dt (" +
                                 ir::format_number(dt * 1e3) +
                                 " ms); a spike cannot arrive "
                                 "before the next step");
      return;
    }
    double steps = *v / dt;
    if (!drawn && std::fabs(steps - std::round(steps)) > 1e-6 * std::max(1.0, steps))
      diags_.error(delay->loc, "delay " + ir::format_number(*v * 1e3) +
                                   " ms is not a whole number of steps of dt = " +
                                   ir::format_number(dt * 1e3) + " ms");
  }

  /// dt within the duration, and at most 1e10 steps (duration / dt, rounded) of it.
  void step_count(double dt, double duration, SourceLoc loc) {
    double steps = std::round(duration / dt);
    if (dt > duration)
      diags_.error(loc, "'dt' (" + ir::format_number(dt) + " s) is longer than 'duration' (" +
                            ir::format_number(duration) + " s)");
    else if (!(steps <= 1e10))
      diags_.error(loc, "'duration' / 'dt' is " + ir::format_number(steps) +
                            " steps, more than the limit of 1e10");
  }

  void record(const RecordDecl &r) {
    for (const auto &g : r.groups) {
      auto it = groups_.find(g.name);
      if (it == groups_.end()) {
        std::vector<std::string> known;
        for (auto &[k, _] : groups_) known.push_back(k);
        diags_.error(g.loc, "unknown group '" + g.name + "'" + did_you_mean(g.name, known));
        continue;
      }
      const Group &grp = it->second;
      if (g.begin && (*g.begin < 0 || *g.end > grp.size || *g.begin >= *g.end))
        diags_.error(g.loc, "slice [" + std::to_string(*g.begin) + ":" + std::to_string(*g.end) +
                                "] is outside '" + g.name + "' (size " + std::to_string(grp.size) +
                                ")");
      if (r.what == "spikes") {
        if (grp.kind == Group::Current) diags_.error(g.loc, "a current source does not spike");
        continue;
      }
      if (grp.kind != Group::Population) {
        diags_.error(g.loc, "only populations have state to record");
        continue;
      }
      if (!grp.neuron) continue;  // its unknown neuron was reported already
      const NeuronScope &scope = scopes_[grp.neuron->name];
      if (!scope.states.count(r.what)) {
        diags_.error(r.loc, "'" + r.what + "' is not a state variable of neuron '" +
                                grp.neuron->name + "'" +
                                did_you_mean(r.what, {scope.states.begin(), scope.states.end()}));
        continue;
      }
      int64_t count = g.begin ? *g.end - *g.begin : grp.size;
      if (count > 1000)
        diags_.error(g.loc, "recording " + std::to_string(count) +
                                " traces; record at most 1000, e.g. " + r.what + "(" + g.name +
                                "[0:10])");
    }
  }
};

}  // namespace

bool check(const ast::File &file, DiagnosticEngine &diags) {
  if (!Sema(diags).run(file)) return false;
  // trainable parts: every experiment resolves, and every layer network lowers (with its
  // default arguments when no experiment uses it)
  int before = diags.error_count();
  std::set<std::string> used;
  for (const auto &e : file.experiments) {
    for (const auto &s : e.settings)  // networks an experiment uses are checked through it
      if ((s.name == "model" || s.name == "compare") && s.value.kind == ast::Value::Call)
        used.insert(s.value.text);
      else if ((s.name == "model" || s.name == "compare") && s.value.expr &&
               s.value.expr->kind == ir::ExprKind::Var)
        used.insert(s.value.expr->name);
    lower_experiment(file, e.name, diags);
  }
  for (const auto &net : file.networks)
    if (!net.layers.empty() && !used.count(net.name)) {
      auto m = lower_model(file, net.name, {}, diags, net.loc);
      if (m) ir::differentiate_cells(*m, diags);
    }
  return diags.error_count() == before;
}

}  // namespace snnc::frontend
