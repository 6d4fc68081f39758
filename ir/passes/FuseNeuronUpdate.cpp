// FuseNeuronUpdate.cpp — builds the fused select-based kernel of each population.
#include "FuseNeuronUpdate.h"

#include <algorithm>
#include <cmath>

#include "ExprUtils.h"

namespace snnc::ir {
namespace {

void add_state(Population &p, const std::string &name, ExprPtr init) {
  for (const auto &s : p.states)
    if (s.name == name) return;
  p.states.push_back({name, Dim::none(), std::move(init), p.loc});
}

bool uses_var(const Population &p, const std::string &name) {
  auto in = [&](const ExprPtr &e) { return e && free_vars(e).count(name); };
  for (const auto *b : {&p.step, &p.reset})
    for (const auto &s : *b)
      if (in(s.value)) return true;
  return in(p.threshold) || in(p.refractory);
}

bool is_condition(const ExprPtr &e) {
  return (e->kind == ExprKind::Binary && is_comparison_or_logic(e->op)) ||
         (e->kind == ExprKind::Unary && e->op == Op::Not);
}

void fuse(Population &p) {
  std::vector<Stmt> k;
  ExprPtr refr = var("_refr"), fire = var("_fire"), refrac = var("_refrac");
  bool has_ref = p.refractory != nullptr;
  bool conditional = has_ref && is_condition(p.refractory);
  bool lastspike = uses_var(p, "lastspike");
  auto rename_last = [&](const ExprPtr &e) {
    return lastspike ? substitute(e, {{"lastspike", var("_lastspike")}}) : e;
  };

  if (has_ref) {
    add_state(p, "_refrac", num(0));
    k.push_back({Stmt::Let, "_refr", binary(Op::Gt, refrac, num(0)), p.loc});
  }
  for (const auto &s : p.step) {
    Stmt out = s;
    out.value = rename_last(s.value);
    bool clamped = std::find(p.clamp.begin(), p.clamp.end(), s.name) != p.clamp.end();
    if (has_ref && s.kind == Stmt::Set && clamped) out.value = select(refr, var(s.name), out.value);
    k.push_back(std::move(out));
  }
  ExprPtr blocked = refr;
  if (conditional) {
    k.push_back({Stmt::Let, "_still", binary(Op::And, refr, rename_last(p.refractory)), p.loc});
    blocked = var("_still");
  }
  if (p.threshold) {
    ExprPtr thr = rename_last(p.threshold);
    ExprPtr cond = has_ref ? binary(Op::And, unary(Op::Not, blocked), thr) : thr;
    k.push_back({Stmt::Let, "_fire", cond, p.threshold->loc});
    for (const auto &r : p.reset)
      k.push_back({Stmt::Set, r.name, select(fire, rename_last(r.value), var(r.name)), r.loc});
    if (lastspike) {
      add_state(p, "_lastspike", num(-HUGE_VAL));
      k.push_back({Stmt::Set, "_lastspike", select(fire, var("t"), var("_lastspike")), p.loc});
    }
  }
  if (has_ref) {
    ExprPtr fired = p.threshold ? fire : num(0);
    ExprPtr next = conditional
                       ? binary(Op::Or, fired, blocked)
                       : select(fired, call("round", {rename_last(p.refractory) / var("dt")}),
                                call("max", {refrac - num(1), num(0)}));
    k.push_back({Stmt::Set, "_refrac", next, p.loc});
  }
  if (p.threshold) k.push_back({Stmt::Spike, "", fire, p.threshold->loc});

  p.kernel = std::move(k);
  p.fused = true;
  p.step.clear();
  p.reset.clear();
  p.threshold = nullptr;
  p.refractory = nullptr;
  p.clamp.clear();
}

}  // namespace

bool fuse_neuron_update(Module &m, DiagnosticEngine &diags) {
  for (auto &p : m.populations) {
    if (p.fused) continue;
    if (!p.odes.empty()) {
      diags.error(p.odes.front().loc,
                  "fuse-neuron-update needs discretised odes (run discretise-odes first)");
      return false;
    }
    fuse(p);
  }
  return true;
}

}  // namespace snnc::ir
