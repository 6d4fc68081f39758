// Expr.cpp — constructors, structural equality and printing of IR expressions.
#include "Expr.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace snnc::ir {

static ExprPtr make(Expr e) {
  return std::make_shared<const Expr>(std::move(e));
}

ExprPtr num(double v, SourceLoc loc) {
  Expr e{ExprKind::Number};
  e.value = v;
  e.loc = loc;
  return make(std::move(e));
}
ExprPtr quantity(double v, std::string unit, SourceLoc loc) {
  Expr e{ExprKind::Number};
  e.value = v;
  e.unit = std::move(unit);
  e.loc = loc;
  return make(std::move(e));
}
ExprPtr var(std::string name, SourceLoc loc) {
  Expr e{ExprKind::Var};
  e.name = std::move(name);
  e.loc = loc;
  return make(std::move(e));
}
ExprPtr index(std::string matrix, int row, int col, SourceLoc loc) {
  Expr e{ExprKind::Index};
  e.name = std::move(matrix);
  e.row = row;
  e.col = col;
  e.loc = loc;
  return make(std::move(e));
}
ExprPtr unary(Op op, ExprPtr a, SourceLoc loc) {
  Expr e{ExprKind::Unary};
  e.op = op;
  e.args = {std::move(a)};
  e.loc = loc;
  return make(std::move(e));
}
ExprPtr binary(Op op, ExprPtr a, ExprPtr b, SourceLoc loc) {
  Expr e{ExprKind::Binary};
  e.op = op;
  e.loc = loc.valid() ? loc : a->loc;
  e.args = {std::move(a), std::move(b)};
  return make(std::move(e));
}
ExprPtr select(ExprPtr c, ExprPtr a, ExprPtr b, SourceLoc loc) {
  Expr e{ExprKind::Select};
  e.loc = loc.valid() ? loc : c->loc;
  e.args = {std::move(c), std::move(a), std::move(b)};
  return make(std::move(e));
}
ExprPtr call(std::string fn, std::vector<ExprPtr> args, SourceLoc loc) {
  Expr e{ExprKind::Call};
  e.name = std::move(fn);
  e.args = std::move(args);
  e.loc = loc;
  return make(std::move(e));
}

ExprPtr operator+(ExprPtr a, ExprPtr b) {
  return binary(Op::Add, std::move(a), std::move(b));
}
ExprPtr operator-(ExprPtr a, ExprPtr b) {
  return binary(Op::Sub, std::move(a), std::move(b));
}
ExprPtr operator*(ExprPtr a, ExprPtr b) {
  return binary(Op::Mul, std::move(a), std::move(b));
}
ExprPtr operator/(ExprPtr a, ExprPtr b) {
  return binary(Op::Div, std::move(a), std::move(b));
}

bool is_number(const ExprPtr &e, double v) {
  return e->kind == ExprKind::Number && e->unit.empty() && e->value == v;
}
bool is_constant(const ExprPtr &e) {
  return e->kind == ExprKind::Number && e->unit.empty();
}

bool equal(const ExprPtr &a, const ExprPtr &b) {
  if (a == b) return true;
  if (a->kind != b->kind || a->op != b->op || a->name != b->name || a->unit != b->unit ||
      a->row != b->row || a->col != b->col || a->args.size() != b->args.size())
    return false;
  if (a->kind == ExprKind::Number && a->value != b->value) return false;
  for (size_t i = 0; i < a->args.size(); ++i)
    if (!equal(a->args[i], b->args[i])) return false;
  return true;
}

const char *op_spelling(Op op) {
  switch (op) {
    case Op::Neg:
      return "-";
    case Op::Not:
      return "!";
    case Op::Add:
      return "+";
    case Op::Sub:
      return "-";
    case Op::Mul:
      return "*";
    case Op::Div:
      return "/";
    case Op::Pow:
      return "^";
    case Op::Lt:
      return "<";
    case Op::Le:
      return "<=";
    case Op::Gt:
      return ">";
    case Op::Ge:
      return ">=";
    case Op::Eq:
      return "==";
    case Op::Ne:
      return "!=";
    case Op::And:
      return "&&";
    case Op::Or:
      return "||";
  }
  return "?";
}

bool is_comparison_or_logic(Op op) {
  return op >= Op::Lt;
}

int builtin_arity(const std::string &fn) {
  static const std::map<std::string, int> arity = {
      {"exp", 1},     {"log", 1},    {"tanh", 1},      {"sqrt", 1},    {"abs", 1},   {"sin", 1},
      {"cos", 1},     {"expm1", 1},  {"min", 2},       {"max", 2},     {"pow", 2},   {"clip", 3},
      {"uniform", 2}, {"normal", 2}, {"heaviside", 1}, {"sigmoid", 1}, {"floor", 1}, {"round", 1}};
  auto it = arity.find(fn);
  return it == arity.end() ? -1 : it->second;
}

// Precedence levels, loosest first: ?: (1), || (2), && (3), == != (4), < <= > >= (5),
// + - (6), * / (7), unary (8), ^ (9), atoms (10).
static int precedence(const ExprPtr &e) {
  switch (e->kind) {
    case ExprKind::Select:
      return 1;
    case ExprKind::Unary:
      return 8;
    case ExprKind::Binary:
      switch (e->op) {
        case Op::Or:
          return 2;
        case Op::And:
          return 3;
        case Op::Eq:
        case Op::Ne:
          return 4;
        case Op::Lt:
        case Op::Le:
        case Op::Gt:
        case Op::Ge:
          return 5;
        case Op::Add:
        case Op::Sub:
          return 6;
        case Op::Mul:
        case Op::Div:
          return 7;
        case Op::Pow:
          return 9;
        default:
          return 10;
      }
    case ExprKind::Number:
      return e->value < 0 ? 8 : 10;
    default:
      return 10;
  }
}

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  // the fewest significant digits that read back to the same double...
  int digits = 1;
  char buf[64];
  for (; digits < 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  // ...but integers up to 1e17 without an exponent (20, not 2e+01)
  if (v != 0) {
    int exponent = static_cast<int>(std::floor(std::log10(std::fabs(v))));
    if (exponent >= digits && exponent < 17) digits = exponent + 1;
  }
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

static std::string wrap(const ExprPtr &e, int min_prec) {
  std::string s = to_string(e);
  return precedence(e) < min_prec ? "(" + s + ")" : s;
}

std::string to_string(const ExprPtr &e) {
  switch (e->kind) {
    case ExprKind::Number: {
      std::string s = format_number(e->value);
      return e->unit.empty() ? s : s + "[" + e->unit + "]";
    }
    case ExprKind::Var:
      return e->name;
    case ExprKind::Index:
      return e->name + "[" + std::to_string(e->row) + ", " + std::to_string(e->col) + "]";
    case ExprKind::Unary:
      return op_spelling(e->op) + wrap(e->args[0], 9);
    case ExprKind::Binary: {
      int p = precedence(e);
      // left-associative: the right operand needs strictly higher precedence;
      // comparisons do not chain, so both sides need higher precedence there.
      bool non_assoc = p == 4 || p == 5 || p == 9;
      return wrap(e->args[0], non_assoc ? p + 1 : p) + " " + op_spelling(e->op) + " " +
             wrap(e->args[1], p + 1);
    }
    case ExprKind::Select:
      return wrap(e->args[0], 2) + " ? " + wrap(e->args[1], 2) + " : " + wrap(e->args[2], 1);
    case ExprKind::Call: {
      std::string s = e->name + "(";
      for (size_t i = 0; i < e->args.size(); ++i) s += (i ? ", " : "") + to_string(e->args[i]);
      return s + ")";
    }
  }
  return "?";
}

}  // namespace snnc::ir
