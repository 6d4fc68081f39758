// DimensionChecker.cpp — dimension inference rules for operators and functions.
#include "DimensionChecker.h"

#include <cmath>

#include "ExprUtils.h"

namespace snnc::frontend {

using ir::ExprKind;
using ir::ExprPtr;
using ir::Op;

bool is_builtin(const std::string &n) {
  return n == "t" || n == "dt" || n == "spiked" || n == "lastspike" || n == "learning";
}

bool declare_name(NeuronScope &scope, const std::string &name, SourceLoc loc, Dim dim,
                  DiagnosticEngine &diags) {
  if (!name.empty() && name[0] == '_') {
    diags.error(loc, "names starting with '_' are reserved for the compiler: '" + name + "'");
    return false;
  }
  if (is_builtin(name)) {
    diags.error(loc, "'" + name + "' is a builtin name and cannot be redefined");
    return false;
  }
  if (scope.dims.count(name)) {
    diags.error(loc, "duplicate definition of '" + name + "'");
    return false;
  }
  scope.dims[name] = dim;
  scope.order.push_back(name);
  return true;
}

std::optional<Dim> annotation_dim(const std::string &text, SourceLoc loc, DiagnosticEngine &diags) {
  if (text.empty()) return Dim::none();
  auto u = parse_unit(text);
  if (!u) {
    diags.error(loc, "unknown unit '" + text + "'");
    return std::nullopt;
  }
  return u->dim;
}

bool is_condition(const ExprPtr &e) {
  return (e->kind == ExprKind::Binary && ir::is_comparison_or_logic(e->op)) ||
         (e->kind == ExprKind::Unary && e->op == Op::Not);
}

static bool is_zero_literal(const ExprPtr &e) {
  return e->kind == ExprKind::Number && e->unit.empty() && e->value == 0;
}

void DimensionChecker::expect_dim(const ExprPtr &e, const Dim &got, const Dim &want,
                                  const std::string &what) {
  if (got == want || is_zero_literal(e)) return;
  diags_.error(e->loc, what + " has dimension '" + got.str() + "', expected '" + want.str() + "'");
}

std::optional<double> DimensionChecker::constant_value(const ExprPtr &e) {
  try {
    ExprPtr si = ir::transform(e, [](const ExprPtr &n) -> ExprPtr {
      if (n->kind == ExprKind::Number && !n->unit.empty()) {
        auto u = parse_unit(n->unit);
        if (!u) throw std::runtime_error("unit");
        return ir::num(n->value * u->scale, n->loc);
      }
      return n;
    });
    return ir::evaluate(si, [](const std::string &n) -> double { throw std::runtime_error(n); });
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

std::optional<Dim> DimensionChecker::infer(const ExprPtr &e, const NeuronScope &scope,
                                           bool allow_random) {
  if (depth_ > 200) {
    diags_.error(e->loc, "expression nested too deeply");
    return std::nullopt;
  }
  struct Depth {
    int &d;
    Depth(int &x) : d(++x) {}
    ~Depth() { --d; }
  } guard(depth_);
  auto sub = [&](const ExprPtr &a) { return infer(a, scope, allow_random); };
  switch (e->kind) {
    case ExprKind::Number: {
      if (e->unit.empty()) return Dim::none();
      auto u = parse_unit(e->unit);
      if (!u) {
        diags_.error(e->loc, "unknown unit '" + e->unit + "'");
        return std::nullopt;
      }
      return u->dim;
    }
    case ExprKind::Var: {
      if (e->name == "t" || e->name == "dt" || e->name == "lastspike") return Dim::base(2);
      if (e->name == "spiked" || e->name == "learning") return Dim::none();
      auto it = scope.dims.find(e->name);
      if (it != scope.dims.end()) return it->second;
      std::vector<std::string> names(scope.order.begin(), scope.order.end());
      for (const char *b : {"t", "dt", "spiked", "lastspike", "learning"}) names.push_back(b);
      diags_.error(e->loc, "unknown name '" + e->name + "'" + did_you_mean(e->name, names));
      return std::nullopt;
    }
    case ExprKind::Index:
      diags_.error(e->loc, "indexing is not part of the language");
      return std::nullopt;
    case ExprKind::Unary: {
      auto a = sub(e->args[0]);
      if (a && e->op == Op::Not) return Dim::none();
      return a;
    }
    case ExprKind::Select: {
      auto c = sub(e->args[0]);
      auto a = sub(e->args[1]);
      auto b = sub(e->args[2]);
      if (!c || !a || !b) return std::nullopt;
      if (*a != *b && !is_zero_literal(e->args[1]) && !is_zero_literal(e->args[2])) {
        diags_.error(e->loc, "the branches of '?:' have dimensions '" + a->str() + "' and '" +
                                 b->str() + "'");
        return std::nullopt;
      }
      return is_zero_literal(e->args[1]) ? b : a;
    }
    case ExprKind::Binary: {
      auto a = sub(e->args[0]);
      auto b = sub(e->args[1]);
      if (!a || !b) return std::nullopt;
      switch (e->op) {
        case Op::Mul:
          return *a * *b;
        case Op::Div:
          return *a / *b;
        case Op::Pow: {
          auto n = constant_value(e->args[1]);
          if (!b->dimensionless() || !n || *n != std::floor(*n)) {
            if (a->dimensionless() && b->dimensionless()) return Dim::none();
            diags_.error(e->loc, "the exponent of a quantity with dimension '" + a->str() +
                                     "' must be a constant integer");
            return std::nullopt;
          }
          return a->pow(static_cast<int>(*n));
        }
        case Op::And:
        case Op::Or:
          return Dim::none();
        default: {
          bool zero = is_zero_literal(e->args[0]) || is_zero_literal(e->args[1]);
          if (*a != *b && !zero) {
            const char *verb = (e->op == Op::Add)   ? "add"
                               : (e->op == Op::Sub) ? "subtract"
                                                    : "compare";
            diags_.error(e->loc, std::string("cannot ") + verb + " '" + a->str() + "' and '" +
                                     b->str() + "' (dimensions differ)");
            return std::nullopt;
          }
          if (ir::is_comparison_or_logic(e->op)) return Dim::none();
          return is_zero_literal(e->args[0]) ? b : a;
        }
      }
    }
    case ExprKind::Call: {
      const std::string &f = e->name;
      int arity = ir::builtin_arity(f);
      if (arity < 0) {
        diags_.error(
            e->loc, "unknown function '" + f + "'" +
                        did_you_mean(f, {"exp", "log", "tanh", "sqrt", "abs", "sin", "cos", "expm1",
                                         "min", "max", "pow", "clip", "uniform", "normal",
                                         "heaviside", "sigmoid", "floor", "round"}));
        return std::nullopt;
      }
      if (arity != static_cast<int>(e->args.size())) {
        diags_.error(e->loc, "'" + f + "' takes " + std::to_string(arity) + " argument" +
                                 (arity == 1 ? "" : "s") + ", " + std::to_string(e->args.size()) +
                                 " given");
        return std::nullopt;
      }
      std::vector<Dim> d;
      for (const auto &a : e->args) {
        auto x = sub(a);
        if (!x) return std::nullopt;
        d.push_back(*x);
      }
      if (f == "uniform" || f == "normal") {
        if (!allow_random) {
          diags_.error(
              e->loc,
              "'" + f + "' draws a random value; it is allowed only in initial values and weights");
          return std::nullopt;
        }
      }
      if (f == "exp" || f == "log" || f == "tanh" || f == "sin" || f == "cos" || f == "expm1" ||
          f == "sigmoid" || f == "pow") {
        for (size_t i = 0; i < d.size(); ++i)
          if (!d[i].dimensionless()) {
            diags_.error(e->args[i]->loc, "the argument of '" + f +
                                              "' must be dimensionless, not '" + d[i].str() + "'");
            return std::nullopt;
          }
        return Dim::none();
      }
      if (f == "heaviside") return Dim::none();
      if (f == "sqrt") {
        Dim h;
        for (int i = 0; i < Dim::kBase; ++i) {
          if (d[0].e[i] % 2) {
            diags_.error(e->loc, "cannot take the square root of '" + d[0].str() + "'");
            return std::nullopt;
          }
          h.e[i] = d[0].e[i] / 2;
        }
        return h;
      }
      // abs, floor, round: same dimension; min, max, clip, uniform, normal: all equal
      for (size_t i = 1; i < d.size(); ++i)
        if (d[i] != d[0] && !is_zero_literal(e->args[i]) && !is_zero_literal(e->args[0])) {
          diags_.error(e->args[i]->loc, "the arguments of '" + f + "' have dimensions '" +
                                            d[0].str() + "' and '" + d[i].str() + "'");
          return std::nullopt;
        }
      return is_zero_literal(e->args[0]) && d.size() > 1 ? d[1] : d[0];
    }
  }
  return std::nullopt;
}

}  // namespace snnc::frontend
