// Autodiff.cpp — forward substitution, Jacobians and the reverse-step statements.
#include "Autodiff.h"

#include <cmath>
#include <map>

#include "ExprUtils.h"

namespace snnc::ir {

const std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>>
    &surrogates() {
  static const std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> s =
      {{"fast_sigmoid", {{"slope", 25}}},
       {"arctan", {{"alpha", 2}}},
       {"sigmoid", {{"slope", 25}}},
       {"triangle", {{"width", 1}}},
       {"straight_through", {}}};
  return s;
}

ExprPtr surrogate_derivative(const std::string &name, const std::vector<Param> &params,
                             const ExprPtr &h) {
  auto value = [&](const char *key) -> ExprPtr {
    for (const auto &p : params)
      if (p.name == key) return p.value;
    for (const auto &[n, defaults] : surrogates())
      if (n == name)
        for (const auto &[k, v] : defaults)
          if (k == key) return num(v);
    return num(0);
  };
  ExprPtr one = num(1);
  if (name == "fast_sigmoid") {  // 1 / (slope |h| + 1)^2
    ExprPtr d = value("slope") * call("abs", {h}) + one;
    return one / (d * d);
  }
  if (name == "arctan") {  // alpha / 2 / (1 + (pi / 2 * alpha * h)^2)
    ExprPtr x = num(M_PI / 2) * value("alpha") * h;
    return value("alpha") / num(2) / (one + x * x);
  }
  if (name == "sigmoid") {  // slope * s * (1 - s), s = sigmoid(slope h)
    ExprPtr s = call("sigmoid", {value("slope") * h});
    return value("slope") * s * (one - s);
  }
  if (name == "triangle") {  // max(1 - |h| / width, 0) / width
    return call("max", {one - call("abs", {h}) / value("width"), num(0)}) / value("width");
  }
  if (name == "straight_through") return one;
  return nullptr;
}

namespace {

std::string post(const std::string &state) {
  return "_post_" + state;
}
std::string carry(const std::string &state) {
  return "_a_" + state;
}

bool differentiate_spiking(Cell &c, DiagnosticEngine &diags) {
  // s[t] as expressions of s[t-1], I and spiked: run the statements symbolically
  std::map<std::string, ExprPtr> env;
  for (const auto &s : c.states) env[s.name] = var(s.name);
  for (const auto &st : c.step) {
    ExprPtr v = substitute(st.value, env);
    env[st.name] = v;  // lets and sets alike: later statements see the new value
  }
  c.next.clear();
  for (const auto &s : c.states) c.next.push_back(simplify(env[s.name]));

  const ExprPtr &thr = c.threshold;
  if (thr->kind != ExprKind::Binary ||
      (thr->op != Op::Gt && thr->op != Op::Ge && thr->op != Op::Lt && thr->op != Op::Le)) {
    diags.error(thr->loc, "a trainable neuron's spike condition must compare two values (`a > b`)");
    return false;
  }
  bool greater = thr->op == Op::Gt || thr->op == Op::Ge;
  ExprPtr h_pre = simplify(greater ? thr->args[0] - thr->args[1] : thr->args[1] - thr->args[0]);
  std::map<std::string, ExprPtr> to_post;
  for (const auto &s : c.states) to_post[s.name] = var(post(s.name));
  c.h = simplify(substitute(h_pre, to_post));

  ExprPtr sg = surrogate_derivative(c.surrogate, c.surrogate_params, var("_h"));
  if (!sg) {
    diags.error(thr->loc, "unknown surrogate '" + c.surrogate + "'");
    return false;
  }
  std::vector<Stmt> b;
  b.push_back({Stmt::Let, "_h", c.h, thr->loc});
  b.push_back({Stmt::Let, "_dspike", simplify(var("_g_spk") * sg), thr->loc});
  std::vector<ExprPtr> total;
  for (const auto &s : c.states) {
    ExprPtr dh = simplify(substitute(differentiate(h_pre, s.name), to_post));
    ExprPtr t = simplify(var(carry(s.name)) + var("_dspike") * dh);
    b.push_back({Stmt::Let, "_t_" + s.name, t, s.loc});
    total.push_back(var("_t_" + s.name));
  }
  ExprPtr g_i = num(0);
  for (size_t j = 0; j < c.states.size(); ++j) g_i = g_i + total[j] * differentiate(c.next[j], "I");
  b.push_back({Stmt::Set, "_g_I", simplify(g_i), thr->loc});
  for (size_t k = 0; k < c.states.size(); ++k) {
    ExprPtr a = num(0);
    for (size_t j = 0; j < c.states.size(); ++j)
      a = a + total[j] * differentiate(c.next[j], c.states[k].name);
    b.push_back({Stmt::Set, carry(c.states[k].name), simplify(a), c.states[k].loc});
  }
  c.backward = std::move(b);
  return true;
}

}  // namespace

bool differentiate_cells(Model &m, DiagnosticEngine &diags) {
  bool ok = true;
  for (auto &c : m.cells) {
    if (c.differentiated) continue;
    try {
      if (c.output) {
        c.backward = {{Stmt::Set, "_g_I", simplify(var("_g_spk") * differentiate(c.output, "I")),
                       c.output->loc}};
      } else if (!differentiate_spiking(c, diags)) {
        ok = false;
        continue;
      }
    } catch (const std::exception &e) {
      diags.error(c.threshold ? c.threshold->loc : SourceLoc{},
                  "cannot differentiate neuron '" + c.neuron + "': " + e.what());
      ok = false;
      continue;
    }
    c.differentiated = true;
  }
  return ok;
}

}  // namespace snnc::ir
