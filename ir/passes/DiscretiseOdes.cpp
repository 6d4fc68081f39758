// DiscretiseOdes.cpp — linearity analysis and the four integrators.
#include "DiscretiseOdes.h"

#include <set>

#include "ExprUtils.h"

namespace snnc::ir {
namespace {

struct System {
  std::vector<std::string> vars;  // state variables with odes, in ode order
  std::vector<ExprPtr> rhs;
  std::vector<std::vector<ExprPtr>> jacobian;  // d rhs_i / d var_j
};

System analyse(const Population &p) {
  System s;
  for (const auto &o : p.odes) {
    s.vars.push_back(o.var);
    s.rhs.push_back(o.rhs);
  }
  for (const auto &f : s.rhs) {
    std::vector<ExprPtr> row;
    for (const auto &v : s.vars) row.push_back(differentiate(f, v));
    s.jacobian.push_back(std::move(row));
  }
  return s;
}

std::set<std::string> param_names(const Population &p) {
  std::set<std::string> out;
  for (const auto &prm : p.params) out.insert(prm.name);
  out.insert("dt");
  return out;
}

/// Linear with parameter-only coefficients: every Jacobian entry reads only params.
bool is_linear_constant(const Population &p, const System &s) {
  std::set<std::string> params = param_names(p);
  for (const auto &row : s.jacobian)
    for (const auto &e : row)
      for (const auto &v : free_vars(e))
        if (!params.count(v)) return false;
  return true;
}

/// Each equation linear in its own variable (coefficient free of that variable).
bool is_conditionally_linear(const System &s) {
  for (size_t i = 0; i < s.vars.size(); ++i)
    if (depends_on(s.jacobian[i][i], {s.vars[i]})) return false;
  return true;
}

std::string next_name(const std::string &v) {
  return "_next_" + v;
}

void emit_exact(Population &p, const System &s, std::vector<Stmt> &out) {
  size_t n = s.vars.size();
  Propagator prop;
  prop.name = "_P";
  prop.vars = s.vars;
  prop.a = s.jacobian;
  // structural reachability: exp(A h)[i][j] can be non-zero only if i depends on j
  std::vector<std::vector<bool>> reach(n, std::vector<bool>(n, false));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) reach[i][j] = i == j || !is_number(s.jacobian[i][j], 0);
  for (size_t k = 0; k < n; ++k)
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j)
        if (reach[i][k] && reach[k][j]) reach[i][j] = true;
  // affine remainders c_j = rhs_j with all system variables at zero
  std::map<std::string, ExprPtr> zero;
  for (const auto &v : s.vars) zero[v] = num(0);
  std::vector<ExprPtr> c;
  for (const auto &f : s.rhs) c.push_back(simplify(substitute(f, zero)));
  for (size_t i = 0; i < n; ++i) {
    ExprPtr sum = num(0);
    for (size_t j = 0; j < n; ++j) {
      if (!reach[i][j]) continue;
      sum = sum + index(prop.name, i, j) * var(s.vars[j]);
      if (!is_number(c[j], 0)) sum = sum + index(prop.name, i, n + j) * c[j];
    }
    out.push_back({Stmt::Let, next_name(s.vars[i]), simplify(sum), p.odes[i].loc});
  }
  p.propagators.push_back(std::move(prop));
}

void emit_exponential_euler(const System &s, const Population &p, std::vector<Stmt> &out) {
  ExprPtr dt = var("dt");
  for (size_t i = 0; i < s.vars.size(); ++i) {
    const ExprPtr &a = s.jacobian[i][i];
    ExprPtr x = var(s.vars[i]);
    ExprPtr next;
    if (is_number(a, 0))
      next = x + dt * s.rhs[i];  // no self-coupling: Euler is exact here
    else                         // expm1(a dt) / a, which tends to dt where a is 0 at run time
      next = x + s.rhs[i] * select(binary(Op::Ne, a, num(0)), call("expm1", {a * dt}) / a, dt);
    out.push_back({Stmt::Let, next_name(s.vars[i]), simplify(next), p.odes[i].loc});
  }
}

void emit_rk4(const System &s, const Population &p, std::vector<Stmt> &out) {
  size_t n = s.vars.size();
  ExprPtr dt = var("dt");
  std::vector<std::vector<std::string>> k(4, std::vector<std::string>(n));
  const double frac[4] = {0, 0.5, 0.5, 1.0};
  for (int stage = 0; stage < 4; ++stage) {
    std::map<std::string, ExprPtr> at;
    if (stage > 0)
      for (size_t j = 0; j < n; ++j)
        at[s.vars[j]] = var(s.vars[j]) + num(frac[stage]) * dt * var(k[stage - 1][j]);
    for (size_t i = 0; i < n; ++i) {
      k[stage][i] = "_k" + std::to_string(stage + 1) + "_" + s.vars[i];
      ExprPtr f = stage == 0 ? s.rhs[i] : substitute(s.rhs[i], at);
      out.push_back({Stmt::Let, k[stage][i], simplify(f), p.odes[i].loc});
    }
  }
  for (size_t i = 0; i < n; ++i) {
    ExprPtr sum = var(k[0][i]) + num(2) * var(k[1][i]) + num(2) * var(k[2][i]) + var(k[3][i]);
    out.push_back(
        {Stmt::Let, next_name(s.vars[i]), var(s.vars[i]) + dt / num(6) * sum, p.odes[i].loc});
  }
}

void emit_euler(const System &s, const Population &p, std::vector<Stmt> &out) {
  for (size_t i = 0; i < s.vars.size(); ++i)
    out.push_back(
        {Stmt::Let, next_name(s.vars[i]), var(s.vars[i]) + var("dt") * s.rhs[i], p.odes[i].loc});
}

}  // namespace

bool discretise_odes(Module &m, DiagnosticEngine &diags) {
  bool ok = true;
  for (auto &p : m.populations) {
    if (p.odes.empty()) continue;
    System s;
    try {
      s = analyse(p);
    } catch (const std::exception &e) {
      diags.error(p.odes.front().loc,
                  std::string("cannot analyse the odes of '") + p.name + "': " + e.what());
      ok = false;
      continue;
    }
    bool linear = is_linear_constant(p, s);
    bool cond_linear = is_conditionally_linear(s);
    Method method = p.method;
    if (method == Method::Auto)
      method = linear ? Method::Exact : cond_linear ? Method::ExponentialEuler : Method::RK4;
    if (method == Method::Exact && !linear) {
      diags.error(p.odes.front().loc,
                  "the odes of '" + p.neuron +
                      "' are not linear with constant coefficients; "
                      "'method exact' needs that (use exponential_euler or rk4)");
      ok = false;
      continue;
    }
    if (method == Method::ExponentialEuler && !cond_linear) {
      diags.error(p.odes.front().loc, "'method exponential_euler' needs every equation of '" +
                                          p.neuron +
                                          "' to be linear in its own variable (use rk4)");
      ok = false;
      continue;
    }
    std::vector<Stmt> out;
    switch (method) {
      case Method::Exact:
        emit_exact(p, s, out);
        break;
      case Method::ExponentialEuler:
        emit_exponential_euler(s, p, out);
        break;
      case Method::RK4:
        emit_rk4(s, p, out);
        break;
      default:
        emit_euler(s, p, out);
        break;
    }
    for (size_t i = 0; i < s.vars.size(); ++i)
      out.push_back({Stmt::Set, s.vars[i], var(next_name(s.vars[i])), p.odes[i].loc});
    out.insert(out.end(), p.step.begin(), p.step.end());
    p.step = std::move(out);
    p.method = method;
    p.odes.clear();
  }
  return ok;
}

}  // namespace snnc::ir
