// Mutate.cpp — visits every expression slot of a module.
#include "Mutate.h"

namespace snnc::ir {

void mutate_exprs(Module &m, const std::function<ExprPtr(const ExprPtr &)> &fn) {
  auto slot = [&](ExprPtr &e) {
    if (e) e = fn(e);
  };
  auto params = [&](std::vector<Param> &ps) {
    for (auto &p : ps) slot(p.value);
  };
  auto stmts = [&](std::vector<Stmt> &ss) {
    for (auto &s : ss) slot(s.value);
  };
  params(m.sim_params);
  for (auto &p : m.populations) {
    params(p.params);
    for (auto &s : p.states) slot(s.init);
    for (auto &o : p.odes) slot(o.rhs);
    for (auto &pr : p.propagators)
      for (auto &row : pr.a)
        for (auto &e : row) slot(e);
    stmts(p.step);
    slot(p.threshold);
    stmts(p.reset);
    slot(p.refractory);
    stmts(p.kernel);
  }
  for (auto &s : m.sources) params(s.params);
  for (auto &c : m.connections) {
    slot(c.p);
    slot(c.weight);
    slot(c.delay);
    if (!c.synapse) continue;
    SynapseModel &sm = *c.synapse;
    params(sm.params);
    for (auto &s : sm.states) slot(s.init);
    for (auto &s : sm.pre_traces) slot(s.init);
    for (auto &s : sm.post_traces) slot(s.init);
    for (auto &d : sm.decays) slot(d.rate);
    stmts(sm.on_pre);
    stmts(sm.on_post);
  }
}

}  // namespace snnc::ir
