// ExprUtils.cpp — simplification, substitution, differentiation and evaluation.
#include "ExprUtils.h"

#include <cmath>
#include <stdexcept>

namespace snnc::ir {

ExprPtr transform(const ExprPtr &e, const std::function<ExprPtr(const ExprPtr &)> &fn) {
  if (e->args.empty()) return fn(e);
  std::vector<ExprPtr> args;
  bool changed = false;
  for (const auto &a : e->args) {
    args.push_back(transform(a, fn));
    changed |= args.back() != a;
  }
  if (!changed) return fn(e);
  auto copy = std::make_shared<Expr>(*e);
  copy->args = std::move(args);
  return fn(copy);
}

static double apply_binary(Op op, double a, double b) {
  switch (op) {
    case Op::Add:
      return a + b;
    case Op::Sub:
      return a - b;
    case Op::Mul:
      return a * b;
    case Op::Div:
      return a / b;
    case Op::Pow:
      return std::pow(a, b);
    case Op::Lt:
      return a < b;
    case Op::Le:
      return a <= b;
    case Op::Gt:
      return a > b;
    case Op::Ge:
      return a >= b;
    case Op::Eq:
      return a == b;
    case Op::Ne:
      return a != b;
    case Op::And:
      return (a != 0) && (b != 0);
    case Op::Or:
      return (a != 0) || (b != 0);
    default:
      return 0;
  }
}

static double apply_call(const std::string &fn, const std::vector<double> &a) {
  if (fn == "exp") return std::exp(a[0]);
  if (fn == "expm1") return std::expm1(a[0]);
  if (fn == "log") return std::log(a[0]);
  if (fn == "tanh") return std::tanh(a[0]);
  if (fn == "sqrt") return std::sqrt(a[0]);
  if (fn == "abs") return std::fabs(a[0]);
  if (fn == "sin") return std::sin(a[0]);
  if (fn == "cos") return std::cos(a[0]);
  if (fn == "floor") return std::floor(a[0]);
  if (fn == "round") return std::round(a[0]);
  if (fn == "heaviside") return a[0] > 0 ? 1.0 : 0.0;
  if (fn == "sigmoid") return 1.0 / (1.0 + std::exp(-a[0]));
  if (fn == "min") return std::fmin(a[0], a[1]);
  if (fn == "max") return std::fmax(a[0], a[1]);
  if (fn == "pow") return std::pow(a[0], a[1]);
  if (fn == "clip") return std::fmin(std::fmax(a[0], a[1]), a[2]);
  throw std::runtime_error("cannot evaluate function '" + fn + "'");
}

static bool is_random(const std::string &fn) {
  return fn == "uniform" || fn == "normal";
}

static ExprPtr simplify_node(const ExprPtr &e) {
  auto all_const = [&] {
    for (const auto &a : e->args)
      if (!is_constant(a)) return false;
    return true;
  };
  switch (e->kind) {
    case ExprKind::Unary: {
      const ExprPtr &a = e->args[0];
      if (is_constant(a)) return num(e->op == Op::Neg ? -a->value : (a->value == 0), e->loc);
      if (e->op == Op::Neg && a->kind == ExprKind::Unary && a->op == Op::Neg) return a->args[0];
      return e;
    }
    case ExprKind::Binary: {
      const ExprPtr &a = e->args[0], &b = e->args[1];
      if (all_const()) return num(apply_binary(e->op, a->value, b->value), e->loc);
      switch (e->op) {
        case Op::Add:
          if (is_number(a, 0)) return b;
          if (is_number(b, 0)) return a;
          if (b->kind == ExprKind::Unary && b->op == Op::Neg)
            return binary(Op::Sub, a, b->args[0], e->loc);
          break;
        case Op::Sub:
          if (is_number(b, 0)) return a;
          if (is_number(a, 0)) return unary(Op::Neg, b, e->loc);
          if (equal(a, b)) return num(0, e->loc);
          break;
        case Op::Mul:
          if (is_number(a, 0) || is_number(b, 0)) return num(0, e->loc);
          if (is_number(a, 1)) return b;
          if (is_number(b, 1)) return a;
          if (is_number(a, -1)) return simplify_node(unary(Op::Neg, b, e->loc));
          if (is_number(b, -1)) return simplify_node(unary(Op::Neg, a, e->loc));
          break;
        case Op::Div:
          if (is_number(a, 0)) return num(0, e->loc);
          if (is_number(b, 1)) return a;
          break;
        case Op::Pow:
          if (is_number(b, 1)) return a;
          if (is_number(b, 0)) return num(1, e->loc);
          break;
        default:
          break;
      }
      return e;
    }
    case ExprKind::Select:
      if (is_constant(e->args[0])) return e->args[0]->value != 0 ? e->args[1] : e->args[2];
      if (equal(e->args[1], e->args[2])) return e->args[1];
      return e;
    case ExprKind::Call:
      if (!is_random(e->name) && all_const() && builtin_arity(e->name) >= 0) {
        std::vector<double> v;
        for (const auto &a : e->args) v.push_back(a->value);
        return num(apply_call(e->name, v), e->loc);
      }
      return e;
    default:
      return e;
  }
}

ExprPtr simplify(const ExprPtr &e) {
  return transform(e, simplify_node);
}

ExprPtr substitute(const ExprPtr &e, const std::map<std::string, ExprPtr> &repl) {
  return transform(e, [&](const ExprPtr &n) -> ExprPtr {
    if (n->kind == ExprKind::Var) {
      auto it = repl.find(n->name);
      if (it != repl.end()) return it->second;
    }
    return n;
  });
}

ExprPtr differentiate(const ExprPtr &e, const std::string &x) {
  auto d = [&](const ExprPtr &a) { return differentiate(a, x); };
  ExprPtr zero = num(0), one = num(1);
  switch (e->kind) {
    case ExprKind::Number:
    case ExprKind::Index:
      return zero;
    case ExprKind::Var:
      return e->name == x ? one : zero;
    case ExprKind::Unary:
      return e->op == Op::Neg ? simplify(unary(Op::Neg, d(e->args[0]))) : zero;
    case ExprKind::Select:
      return simplify(select(e->args[0], d(e->args[1]), d(e->args[2])));
    case ExprKind::Binary: {
      const ExprPtr &a = e->args[0], &b = e->args[1];
      switch (e->op) {
        case Op::Add:
          return simplify(d(a) + d(b));
        case Op::Sub:
          return simplify(d(a) - d(b));
        case Op::Mul:
          return simplify(d(a) * b + a * d(b));
        case Op::Div: {
          ExprPtr db = d(b);
          if (is_number(db, 0)) return simplify(d(a) / b);
          return simplify((d(a) * b - a * db) / (b * b));
        }
        case Op::Pow: {
          // integer-constant exponents: d(a^n) = n a^(n-1) a'
          if (!is_constant(b))
            throw std::runtime_error("cannot differentiate a non-constant power");
          return simplify(b * binary(Op::Pow, a, num(b->value - 1)) * d(a));
        }
        default:
          return zero;  // comparisons and logic: piecewise constant
      }
    }
    case ExprKind::Call: {
      const std::string &f = e->name;
      if (f == "uniform" || f == "normal" || f == "heaviside" || f == "floor" || f == "round")
        return zero;
      const ExprPtr &a = e->args[0];
      ExprPtr da = d(a);
      if (f == "exp") return simplify(e * da);
      if (f == "expm1") return simplify(call("exp", {a}) * da);
      if (f == "log") return simplify(da / a);
      if (f == "tanh") return simplify((one - e * e) * da);
      if (f == "sqrt") return simplify(da / (num(2) * e));
      if (f == "sin") return simplify(call("cos", {a}) * da);
      if (f == "cos") return simplify(unary(Op::Neg, call("sin", {a})) * da);
      if (f == "abs") return simplify(select(binary(Op::Lt, a, zero), unary(Op::Neg, da), da));
      if (f == "sigmoid") return simplify(e * (one - e) * da);
      if (f == "min" || f == "max") {
        Op op = f == "min" ? Op::Le : Op::Ge;
        return simplify(select(binary(op, e->args[0], e->args[1]), d(e->args[0]), d(e->args[1])));
      }
      if (f == "clip") {
        ExprPtr inside =
            binary(Op::And, binary(Op::Gt, a, e->args[1]), binary(Op::Lt, a, e->args[2]));
        return simplify(select(inside, da, zero));
      }
      if (f == "pow") {
        const ExprPtr &b = e->args[1];
        return simplify(b * call("pow", {a, b - one}) * da + e * call("log", {a}) * d(b));
      }
      throw std::runtime_error("cannot differentiate '" + f + "'");
    }
  }
  return zero;
}

std::set<std::string> free_vars(const ExprPtr &e) {
  std::set<std::string> out;
  std::function<void(const ExprPtr &)> walk = [&](const ExprPtr &n) {
    if (n->kind == ExprKind::Var || n->kind == ExprKind::Index) out.insert(n->name);
    for (const auto &a : n->args) walk(a);
  };
  walk(e);
  return out;
}

bool depends_on(const ExprPtr &e, const std::set<std::string> &names) {
  for (const auto &v : free_vars(e))
    if (names.count(v)) return true;
  return false;
}

bool contains_call(const ExprPtr &e, const std::string &fn) {
  if (e->kind == ExprKind::Call && e->name == fn) return true;
  for (const auto &a : e->args)
    if (contains_call(a, fn)) return true;
  return false;
}

double evaluate(const ExprPtr &e, const std::function<double(const std::string &)> &lookup,
                const std::function<double(const std::string &, double, double)> &random) {
  auto ev = [&](const ExprPtr &a) { return evaluate(a, lookup, random); };
  switch (e->kind) {
    case ExprKind::Number:
      if (!e->unit.empty()) throw std::runtime_error("unfolded unit in expression");
      return e->value;
    case ExprKind::Var:
      return lookup(e->name);
    case ExprKind::Index:
      throw std::runtime_error("cannot evaluate propagator entry " + e->name);
    case ExprKind::Unary:
      return e->op == Op::Neg ? -ev(e->args[0]) : (ev(e->args[0]) == 0);
    case ExprKind::Binary: {
      double a = ev(e->args[0]);
      if (e->op == Op::And && a == 0) return 0;
      if (e->op == Op::Or && a != 0) return 1;
      return apply_binary(e->op, a, ev(e->args[1]));
    }
    case ExprKind::Select:
      return ev(e->args[0]) != 0 ? ev(e->args[1]) : ev(e->args[2]);
    case ExprKind::Call: {
      std::vector<double> v;
      for (const auto &a : e->args) v.push_back(ev(a));
      if (is_random(e->name)) {
        if (!random) throw std::runtime_error("random value '" + e->name + "' not allowed here");
        return random(e->name, v[0], v[1]);
      }
      return apply_call(e->name, v);
    }
  }
  return 0;
}

}  // namespace snnc::ir
