// Verifier.cpp — name resolution and structural invariants of the IR.
#include "Verifier.h"

#include <set>

#include "ExprUtils.h"

namespace snnc::ir {

bool is_builtin_var(const std::string &n) {
  return n == "t" || n == "dt" || n == "spiked" || n == "lastspike" || n == "learning";
}

namespace {

class Verifier {
 public:
  explicit Verifier(DiagnosticEngine &d) : diags_(d) {}

  bool run(const Module &m) {
    int before = diags_.error_count();
    if (m.name.empty()) diags_.error({}, "module has no name");
    std::set<std::string> sim;
    for (const auto &p : m.sim_params) sim.insert(p.name);
    for (const char *required : {"dt", "duration"})
      if (!sim.count(required))
        diags_.error({}, std::string("module lacks 'sim ") + required + "'");
    std::set<std::string> groups;
    for (const auto &p : m.populations) {
      if (!groups.insert(p.name).second) diags_.error(p.loc, "duplicate group '" + p.name + "'");
      population(p);
    }
    for (const auto &s : m.sources) {
      if (!groups.insert(s.name).second) diags_.error(s.loc, "duplicate group '" + s.name + "'");
      if (s.size <= 0) diags_.error(s.loc, "source '" + s.name + "' must have a positive size");
      std::set<std::string> scope;
      params(s.params, scope);
    }
    for (const auto &c : m.connections) connection(m, c);
    for (const auto &r : m.records) record(m, r);
    if (m.protocol) protocol(m, *m.protocol, sim);
    return diags_.error_count() == before;
  }

  void protocol(const Module &m, const Protocol &p, const std::set<std::string> &sim) {
    const Source *src = m.find_source(p.source);
    if (!src || src->kind != Source::Stimulus)
      diags_.error(p.loc, "protocol presents '" + p.source + "', which is not a stimulus source");
    if (p.data.empty()) diags_.error(p.loc, "protocol without a data set");
    for (const char *param : {"max_rate", "present_time", "rest_time", "boost", "learning"})
      if (!sim.count(param))
        diags_.error(p.loc, std::string("a protocol needs 'sim ") + param + "'");
    for (const std::string *pop : {&p.count, &p.classify})
      if (!pop->empty() && !m.find_population(*pop))
        diags_.error(p.loc, "protocol names '" + *pop + "', which is not a population");
    if (p.repeat_below > 0 && p.count.empty())
      diags_.error(p.loc, "'repeat_below' needs the population whose spikes it counts");
    if (!p.normalise.empty()) {
      const Connection *c = nullptr;
      for (const auto &x : m.connections)
        if (x.name == p.normalise) c = &x;
      if (!c || !c->synapse || c->synapse->kind_of("w") != 's')
        diags_.error(p.loc, "protocol normalises '" + p.normalise +
                                "', which is not a connection with a per-synapse weight 'w'");
      if (!sim.count("normalise_total"))
        diags_.error(p.loc, "normalising needs 'sim normalise_total'");
    }
    if (p.repeat_below < 0 || p.learn_images < 0 || p.assign_images < 0 || p.test_images < 0)
      diags_.error(p.loc, "protocol counts must not be negative");
  }

 private:
  DiagnosticEngine &diags_;

  void check_expr(const ExprPtr &e, const std::set<std::string> &scope, const std::string &where) {
    if (!e) return;
    for (const auto &v : free_vars(e))
      if (!scope.count(v) && !is_builtin_var(v))
        diags_.error(e->loc, "unknown name '" + v + "' in " + where);
    check_calls(e, where);
  }
  void check_calls(const ExprPtr &e, const std::string &where) {
    if (e->kind == ExprKind::Call) {
      int arity = builtin_arity(e->name);
      if (arity < 0)
        diags_.error(e->loc, "unknown function '" + e->name + "' in " + where);
      else if (arity != static_cast<int>(e->args.size()))
        diags_.error(e->loc, "'" + e->name + "' takes " + std::to_string(arity) + " arguments");
    }
    for (const auto &a : e->args) check_calls(a, where);
  }

  void params(const std::vector<Param> &ps, std::set<std::string> &scope) {
    for (const auto &p : ps) {
      check_expr(p.value, scope, "parameter '" + p.name + "'");
      if (!scope.insert(p.name).second) diags_.error(p.loc, "duplicate name '" + p.name + "'");
    }
  }

  void block(const std::vector<Stmt> &stmts, std::set<std::string> scope,
             const std::set<std::string> &assignable, const std::string &where, bool allow_spike) {
    for (const auto &s : stmts) {
      check_expr(s.value, scope, where);
      if (s.kind == Stmt::Let) {
        if (!scope.insert(s.name).second)
          diags_.error(s.loc, "'" + s.name + "' is already defined");
      } else if (s.kind == Stmt::Set) {
        if (!assignable.count(s.name))
          diags_.error(s.loc, "'" + s.name + "' is not a state variable or input");
      } else if (!allow_spike) {
        diags_.error(s.loc, "'spike' is only allowed in a kernel");
      }
    }
  }

  void population(const Population &p) {
    if (p.size <= 0) diags_.error(p.loc, "population '" + p.name + "' must have a positive size");
    std::set<std::string> scope, states, assignable;
    params(p.params, scope);
    std::set<std::string> init_scope = scope;
    for (const auto &s : p.states) {
      check_expr(s.init, init_scope, "initial value of '" + s.name + "'");
      if (!scope.insert(s.name).second) diags_.error(s.loc, "duplicate name '" + s.name + "'");
      states.insert(s.name);
    }
    for (const auto &i : p.inputs)
      if (!scope.insert(i.name).second) diags_.error(i.loc, "duplicate name '" + i.name + "'");
    assignable = states;
    for (const auto &i : p.inputs) assignable.insert(i.name);
    for (const auto &pr : p.propagators) {
      scope.insert(pr.name);
      for (const auto &v : pr.vars)
        if (!states.count(v)) diags_.error(p.loc, "propagator variable '" + v + "' is not a state");
      for (const auto &row : pr.a) {
        if (row.size() != pr.vars.size() || pr.a.size() != pr.vars.size())
          diags_.error(p.loc, "propagator '" + pr.name + "' matrix is not square");
        for (const auto &e : row) check_expr(e, scope, "propagator '" + pr.name + "'");
      }
    }
    std::set<std::string> ode_vars;
    for (const auto &o : p.odes) {
      if (!states.count(o.var))
        diags_.error(o.loc, "ode for '" + o.var + "', which is not a state variable");
      if (!ode_vars.insert(o.var).second) diags_.error(o.loc, "two odes for '" + o.var + "'");
      check_expr(o.rhs, scope, "ode of '" + o.var + "'");
    }
    check_indices(p);
    block(p.step, scope, assignable, "step", false);
    check_expr(p.threshold, scope, "threshold");
    block(p.reset, scope, assignable, "reset", false);
    check_expr(p.refractory, scope, "refractory");
    for (const auto &c : p.clamp)
      if (!states.count(c)) diags_.error(p.loc, "clamped '" + c + "' is not a state variable");
    if (p.fused) {
      if (!p.odes.empty()) diags_.error(p.loc, "fused population '" + p.name + "' still has odes");
      block(p.kernel, scope, assignable, "kernel", true);
    }
  }

  void check_indices(const Population &p) {
    std::function<void(const ExprPtr &)> walk = [&](const ExprPtr &e) {
      if (e->kind == ExprKind::Index) {
        const Propagator *found = nullptr;
        for (const auto &pr : p.propagators)
          if (pr.name == e->name) found = &pr;
        int n = found ? static_cast<int>(found->vars.size()) : 0;
        if (!found)
          diags_.error(e->loc, "unknown propagator '" + e->name + "'");
        else if (e->row < 0 || e->row >= n || e->col < 0 || e->col >= 2 * n)
          diags_.error(e->loc, "propagator index out of range");
      }
      for (const auto &a : e->args) walk(a);
    };
    for (const auto *b : {&p.step, &p.kernel})
      for (const auto &s : *b) walk(s.value);
  }

  void connection(const Module &m, const Connection &c) {
    bool pre_ok = m.find_population(c.pre) || m.find_source(c.pre);
    if (!pre_ok)
      diags_.error(c.loc, "connection '" + c.name + "' from unknown group '" + c.pre + "'");
    const Population *post = m.find_population(c.post);
    if (!post) {
      diags_.error(c.loc, "connection '" + c.name + "' to unknown population '" + c.post + "'");
      return;
    }
    bool target_ok = false;
    for (const auto &s : post->states) target_ok |= s.name == c.target;
    for (const auto &i : post->inputs) target_ok |= i.name == c.target;
    if (c.synapse) {
      if (!c.target.empty())
        diags_.error(c.loc, "connection '" + c.name +
                                "' has a synapse model, which delivers in on_pre; it takes no "
                                "target");
      synapse(c, *c.synapse, *post);
    } else if (!target_ok) {
      diags_.error(c.loc, "connection target '" + c.target + "' is not a state or input of '" +
                              c.post + "'");
    }
    if (c.kind == Connection::Random && !c.p) diags_.error(c.loc, "random connection without p");
  }

  /// The rules of SynapseModel (IR.h): what each block may set and read.
  void synapse(const Connection &c, const SynapseModel &sm, const Population &post) {
    std::set<std::string> post_vars, params;
    for (const auto &s : post.states) post_vars.insert(s.name);
    for (const auto &i : post.inputs) post_vars.insert(i.name);
    for (const auto &p : sm.params) params.insert(p.name);
    std::set<std::string> names;
    auto declare = [&](const std::string &n, SourceLoc loc) {
      if (!names.insert(n).second)
        diags_.error(loc, "synapse '" + sm.name + "' declares '" + n + "' twice");
      if (post_vars.count(n))
        diags_.error(loc, "synapse '" + sm.name + "' variable '" + n +
                              "' has the name of a variable of postsynaptic neuron '" +
                              post.neuron + "'");
    };
    for (const auto &p : sm.params) declare(p.name, p.loc);
    for (const auto &x : sm.states) declare(x.name, x.loc);
    for (const auto &x : sm.pre_traces) declare(x.name, x.loc);
    for (const auto &x : sm.post_traces) declare(x.name, x.loc);
    for (const auto &d : sm.decays) {
      char k = sm.kind_of(d.var);
      if (k != 'a' && k != 'b')
        diags_.error(d.loc,
                     "decay of '" + d.var + "', which is not a trace of synapse '" + sm.name + "'");
      for (const auto &v : free_vars(d.rate))
        if (!params.count(v) && v != "dt")
          diags_.error(d.loc, "the decay rate of '" + d.var + "' reads '" + v +
                                  "'; it may read parameters only");
    }
    auto check_block = [&](const std::vector<Stmt> &block, bool on_pre) {
      const char *where = on_pre ? "on_pre" : "on_post";
      for (const auto &st : block) {
        if (st.kind != Stmt::Set) {
          diags_.error(st.loc, std::string(where) + " of synapse '" + sm.name +
                                   "' may only hold assignments");
          continue;
        }
        char k = sm.kind_of(st.name);
        bool post_var = !k && post_vars.count(st.name);
        bool ok = k == 's' || (on_pre ? k == 'a' || post_var : k == 'b');
        if (!ok) {
          diags_.error(st.loc, "'" + st.name + "' cannot be set in " + where + " of synapse '" +
                                   sm.name + "'");
          continue;
        }
        for (const auto &v : free_vars(st.value)) {
          char rk = sm.kind_of(v);
          bool known = rk || post_vars.count(v) || v == "t" || v == "dt" || v == "learning";
          if (!known)
            diags_.error(st.loc, "'" + v + "' in " + where + " of synapse '" + sm.name +
                                     "' is not a synapse variable, parameter or variable of '" +
                                     c.post + "'");
          // a trace's update runs once per spike: it reads its own side only
          if ((k == 'a' || k == 'b') && known && rk != 'p' && rk != k && v != "dt")
            diags_.error(st.loc, "the trace '" + st.name + "' is updated once per spike and " +
                                     "may read only parameters and traces of its side, not '" + v +
                                     "'");
        }
      }
    };
    check_block(sm.on_pre, true);
    check_block(sm.on_post, false);
  }

  void record(const Module &m, const Record &r) {
    if (r.kind == Record::Spikes) {
      int64_t size = -1;
      if (auto *p = m.find_population(r.group))
        size = p->size;
      else if (auto *s = m.find_source(r.group))
        size = s->size;
      if (size < 0)
        diags_.error(r.loc, "record of unknown group '" + r.group + "'");
      else if (r.end >= 0 && (r.begin < 0 || r.begin >= r.end || r.end > size))
        diags_.error(r.loc, "spike record range out of bounds for '" + r.group + "'");
      return;
    }
    const Population *p = m.find_population(r.group);
    if (!p) {
      diags_.error(r.loc, "trace of unknown population '" + r.group + "'");
      return;
    }
    bool ok = false;
    for (const auto &s : p->states) ok |= s.name == r.var;
    if (!ok) diags_.error(r.loc, "'" + r.var + "' is not a state variable of '" + r.group + "'");
    for (int64_t n : r.neurons)
      if (n < 0 || n >= p->size)
        diags_.error(r.loc, "neuron index " + std::to_string(n) + " out of range");
  }
};

}  // namespace

bool verify(const Module &m, DiagnosticEngine &diags) {
  return Verifier(diags).run(m);
}

}  // namespace snnc::ir
