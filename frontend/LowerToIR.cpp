// LowerToIR.cpp — AST (checked) to ir::Module.
#include "LowerToIR.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "DimensionChecker.h"
#include "ExprUtils.h"
#include "Protocol.h"
#include "SynapseCheck.h"

namespace snnc::frontend {
namespace {

using namespace ast;

class Lowering {
 public:
  Lowering(const File &f, DiagnosticEngine &d) : file_(f), diags_(d), dc_(d) {}

  std::optional<ir::Module> run(const std::string &name) {
    const SimulationDef *sim = nullptr;
    for (const auto &s : file_.simulations)
      if (name.empty() || s.name == name) {
        sim = &s;
        break;
      }
    if (!sim) {
      std::vector<std::string> names;
      for (const auto &s : file_.simulations) names.push_back(s.name);
      if (name.empty())
        diags_.error({}, "the file declares no 'simulation' block to run");
      else {
        diags_.error({}, "no simulation named '" + name + "'" + did_you_mean(name, names));
      }
      return std::nullopt;
    }
    ir::Module m;
    m.name = sim->name;
    m.seed = 1;
    const NetworkDef *net = nullptr;
    for (const auto &a : sim->settings) {
      if (a.name == "network")
        net = find_network(a.value->name);
      else if (a.name == "seed")
        m.seed = static_cast<uint64_t>(*dc_.constant_value(a.value));
      else
        m.sim_params.push_back({a.name, Dim::base(2), a.value, a.loc});
    }
    if (!net) return std::nullopt;
    for (const auto &p : net->populations) m.populations.push_back(population(p));
    for (const auto &s : net->sources) m.sources.push_back(source(s));
    for (const auto &c : net->connections) connection(c, m);
    for (const auto &r : sim->records) record(r, m);
    lower_protocol(*sim, m);
    // a protocol shows samples, not one duration: the module's duration is one step
    bool has_duration = false;
    for (const auto &p : m.sim_params) has_duration |= p.name == "duration";
    if (!has_duration && m.protocol) {
      ExprPtr dt;
      for (const auto &p : m.sim_params)
        if (p.name == "dt") dt = p.value;
      m.sim_params.push_back({"duration", Dim::base(2), dt, sim->loc});
    }
    // `learning` (1 while plasticity learns) when something can learn
    bool plastic = m.protocol.has_value();
    for (const auto &c : m.connections) plastic |= c.synapse.has_value();
    if (plastic) m.sim_params.push_back({"learning", Dim::none(), ir::num(1), sim->loc});
    if (diags_.has_errors()) return std::nullopt;
    return m;
  }

 private:
  const File &file_;
  DiagnosticEngine &diags_;
  DimensionChecker dc_;
  std::map<std::string, std::set<std::string>> inputs_of_;  // population -> input names

  const NetworkDef *find_network(const std::string &n) {
    for (const auto &x : file_.networks)
      if (x.name == n) return &x;
    return nullptr;
  }
  const NeuronDef *find_neuron(const std::string &n) {
    for (const auto &x : file_.neurons)
      if (x.name == n) return &x;
    return nullptr;
  }

  Dim dim_of(const TypeRef &t, const ExprPtr &fallback, const NeuronScope &scope) {
    if (!t.text.empty()) return parse_unit(t.text)->dim;
    if (fallback)
      if (auto d = dc_.infer(fallback, scope, true)) return *d;
    return Dim::none();
  }

  static bool reads(const ExprPtr &e, const std::string &name) {
    return e && ir::free_vars(e).count(name);
  }

  ir::Population population(const PopulationDecl &decl) {
    const NeuronDef &n = *find_neuron(decl.neuron);
    ir::Population p;
    p.name = decl.name;
    p.neuron = n.name;
    p.loc = decl.loc;
    p.size = static_cast<int64_t>(*dc_.constant_value(decl.size));
    p.method = n.method.empty() ? ir::Method::Auto : *ir::parse_method(n.method);
    NeuronScope scope;
    for (const auto &prm : n.params) {
      ExprPtr value = prm.default_value;
      for (const auto &a : decl.args)
        if (a.name == prm.name) value = a.value;
      Dim d = dim_of(prm.type, prm.default_value, scope);
      if (!value) {
        diags_.error(decl.loc, "parameter '" + prm.name + "' of neuron '" + n.name +
                                   "' has no default; give it here, e.g. " + n.name + "(" +
                                   prm.name + " = ...)");
        value = ir::num(0);
      }
      scope.dims[prm.name] = d;
      p.params.push_back({prm.name, d, value, prm.loc});
    }
    for (const auto &s : n.states) {
      Dim d = dim_of(s.type, s.init, scope);
      p.states.push_back({s.name, d, s.init ? s.init : ir::num(0), s.loc});
    }
    for (const auto &in : n.inputs)
      p.inputs.push_back({in.name, dim_of(in.type, nullptr, scope), in.loc});
    // aliases, each substituted with the ones before it
    std::map<std::string, ExprPtr> lets;
    for (const auto &l : n.lets) lets[l.name] = ir::substitute(l.value, lets);
    auto expand = [&](const ExprPtr &e) { return e ? ir::substitute(e, lets) : e; };
    bool has_i = false;
    for (const auto &in : n.inputs) has_i |= in.name == "I";
    auto uses_i = [&] {
      for (const auto &o : n.odes)
        if (reads(expand(o.rhs), "I")) return true;
      for (const auto &a : n.update)
        if (reads(expand(a.value), "I")) return true;
      for (const auto &a : n.reset)
        if (reads(expand(a.value), "I")) return true;
      return reads(expand(n.spike), "I") || reads(expand(n.refractory), "I");
    };
    if (!has_i && uses_i()) p.inputs.push_back({"I", Dim::none(), n.loc});
    for (const auto &in : p.inputs) inputs_of_[p.name].insert(in.name);
    for (const auto &o : n.odes) p.odes.push_back({o.var, expand(o.rhs), o.loc});
    auto assign = [&](const Assign &a) {
      ExprPtr v = expand(a.value);
      if (a.op == '+') v = ir::binary(ir::Op::Add, ir::var(a.target, a.loc), v, a.loc);
      if (a.op == '-') v = ir::binary(ir::Op::Sub, ir::var(a.target, a.loc), v, a.loc);
      return ir::Stmt{ir::Stmt::Set, a.target, v, a.loc};
    };
    for (const auto &a : n.update) p.step.push_back(assign(a));
    p.threshold = expand(n.spike);
    // the refractory period holds what reset sets (`v = v_reset`), not what it changes by
    // an amount (`theta += ...`, `u += d`): adaptation keeps evolving
    for (const auto &a : n.reset) {
      p.reset.push_back(assign(a));
      if (a.op == '=' && std::find(p.clamp.begin(), p.clamp.end(), a.target) == p.clamp.end())
        p.clamp.push_back(a.target);
    }
    p.refractory = expand(n.refractory);
    if (!p.refractory) p.clamp.clear();
    return p;
  }

  static const Arg *arg(const std::vector<Arg> &args, const std::string &name) {
    for (const auto &a : args)
      if (a.name == name) return &a;
    return nullptr;
  }

  ir::Source source(const SourceDecl &decl) {
    ir::Source s;
    s.name = decl.name;
    s.loc = decl.loc;
    auto value = [&](const char *name, const char *positional_of) -> ExprPtr {
      if (const Arg *a = arg(decl.args, name)) return a->value;
      if (decl.kind == positional_of)
        if (const Arg *a = arg(decl.args, "")) return a->value;
      return nullptr;
    };
    NeuronScope empty;
    if (decl.kind == "current") {
      s.kind = ir::Source::Current;
      ExprPtr amp = value("amplitude", "current");
      s.params.push_back({"amplitude", *dc_.infer(amp, empty, false), amp, amp->loc});
      ExprPtr start = value("start", "");
      ExprPtr stop = value("stop", "");
      s.params.push_back({"start", Dim::base(2), start ? start : ir::num(0), decl.loc});
      s.params.push_back({"stop", Dim::base(2), stop ? stop : ir::num(HUGE_VAL), decl.loc});
    } else if (decl.kind == "stimulus") {
      s.kind = ir::Source::Stimulus;  // rates set by the simulation's protocol
      if (ExprPtr n = value("n", "stimulus")) s.size = static_cast<int64_t>(*dc_.constant_value(n));
    } else {
      s.kind = ir::Source::Poisson;
      ExprPtr rate = value("rate", "poisson");
      s.params.push_back({"rate", Dim::base(2, -1), rate, rate->loc});
      if (ExprPtr n = value("n", "")) s.size = static_cast<int64_t>(*dc_.constant_value(n));
    }
    return s;
  }

  void connection(const ConnectDecl &decl, ir::Module &m) {
    const Arg *p = arg(decl.args, "p");
    const Arg *w = arg(decl.args, "w");
    const Arg *target = arg(decl.args, "target");
    for (const auto &pre : decl.pre) {
      for (const auto &post : decl.post) {
        std::string t = target ? target->value->name : "I";
        if (auto *src = const_cast<ir::Source *>(m.find_source(pre.name));
            src && src->kind == ir::Source::Current) {
          src->targets.push_back(post.name + "." + t);
          continue;
        }
        ir::Connection c;
        c.pre = pre.name;
        c.post = post.name;
        c.target = t;
        c.loc = decl.loc;
        c.name = unique_name(m, pre.name + "_to_" + post.name);
        if (p) {
          c.kind = ir::Connection::Random;
          c.p = p->value;
        } else if (arg(decl.args, "one_to_one")) {
          c.kind = ir::Connection::OneToOne;
        } else {
          c.kind = ir::Connection::AllToAll;
        }
        // both drop the synapses i -> i (from a group to itself, or to the neuron of the
        // same index in another group of the same size)
        c.autapses = !arg(decl.args, "no_autapses") && !arg(decl.args, "except_same_index");
        c.weight = w ? w->value : ir::num(1);
        if (const Arg *d = arg(decl.args, "delay")) c.delay = d->value;
        if (!decl.synapse.empty()) {
          c.synapse = synapse_model(decl, w ? w->value : nullptr);
          c.target.clear();
          c.weight = nullptr;  // the synapse's state `w` starts at it
        }
        m.connections.push_back(std::move(c));
      }
    }
  }

  const SynapseDef *find_synapse(const std::string &n) {
    for (const auto &x : file_.synapses)
      if (x.name == n) return &x;
    return nullptr;
  }

  /// The synapse model of `connect ... with S(args)`; `weight` (the connection's w) is the
  /// initial value of the model's state `w`.
  ir::SynapseModel synapse_model(const ConnectDecl &decl, const ExprPtr &weight) {
    const SynapseDef &def = *find_synapse(decl.synapse);
    ir::SynapseModel sm;
    sm.name = def.name;
    sm.loc = decl.synapse_loc;
    NeuronScope scope;
    std::set<std::string> params;
    for (const auto &prm : def.params) {
      ExprPtr value = prm.default_value;
      for (const auto &a : decl.synapse_args)
        if (a.name == prm.name) value = a.value;
      Dim d = dim_of(prm.type, prm.default_value, scope);
      scope.dims[prm.name] = d;
      params.insert(prm.name);
      sm.params.push_back({prm.name, d, value ? value : ir::num(0), prm.loc});
    }
    for (const auto &st : def.states) {
      ExprPtr init = st.init ? st.init : ir::num(0);
      if (st.name == "w" && weight) init = weight;
      sm.states.push_back({st.name, dim_of(st.type, st.init, scope), init, st.loc});
    }
    for (const auto &t : def.traces)
      (t.side == TraceDecl::Pre ? sm.pre_traces : sm.post_traces)
          .push_back({t.name, dim_of(t.type, t.init, scope), t.init ? t.init : ir::num(0), t.loc});
    std::map<std::string, ExprPtr> lets;
    for (const auto &l : def.lets) lets[l.name] = ir::substitute(l.value, lets);
    for (const auto &o : def.odes)
      sm.decays.push_back(
          {o.var, linear_decay_rate(ir::substitute(o.rhs, lets), o.var, params), o.loc});
    auto assign = [&](const Assign &a) {
      ExprPtr v = ir::substitute(a.value, lets);
      if (a.op == '+') v = ir::binary(ir::Op::Add, ir::var(a.target, a.loc), v, a.loc);
      if (a.op == '-') v = ir::binary(ir::Op::Sub, ir::var(a.target, a.loc), v, a.loc);
      return ir::Stmt{ir::Stmt::Set, a.target, v, a.loc};
    };
    for (const auto &a : def.on_pre) sm.on_pre.push_back(assign(a));
    for (const auto &a : def.on_post) sm.on_post.push_back(assign(a));
    return sm;
  }

  static std::string unique_name(const ir::Module &m, const std::string &base) {
    auto taken = [&](const std::string &n) {
      for (const auto &c : m.connections)
        if (c.name == n) return true;
      return false;
    };
    std::string name = base;
    for (int i = 2; taken(name); ++i) name = base + "_" + std::to_string(i);
    return name;
  }

  void record(const RecordDecl &r, ir::Module &m) {
    for (const auto &g : r.groups) {
      ir::Record rec;
      rec.group = g.name;
      rec.loc = r.loc;
      if (r.what == "spikes") {
        rec.kind = ir::Record::Spikes;
        if (g.begin) {
          rec.begin = *g.begin;
          rec.end = *g.end;
        }
      } else {
        rec.kind = ir::Record::Trace;
        rec.var = r.what;
        const ir::Population *pop = m.find_population(g.name);
        int64_t begin = g.begin.value_or(0), end = g.end.value_or(pop ? pop->size : 0);
        for (int64_t i = begin; i < end; ++i) rec.neurons.push_back(i);
      }
      m.records.push_back(std::move(rec));
    }
  }
};

}  // namespace

std::optional<ir::Module> lower_simulation(const ast::File &file, const std::string &name,
                                           DiagnosticEngine &diags) {
  return Lowering(file, diags).run(name);
}

}  // namespace snnc::frontend
