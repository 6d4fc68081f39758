// Expr.h — scalar expressions of the IR (immutable trees shared by pointer).
//
// Neuron dynamics, reset rules, thresholds, initial values and connection parameters
// are all Exprs. Before `fold-units` a literal may carry a unit (`20[ms]`); after it,
// every literal is a plain SI double. Names are resolved by the enclosing population
// (params, state, inputs, lets) or are builtins: `t`, `dt`, `spiked`, `lastspike`.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "Diagnostics.h"

namespace snnc::ir {

enum class ExprKind {
  Number,  ///< value (+ optional unit before folding)
  Var,     ///< name
  Index,   ///< name[row, col]: an entry of a propagator matrix
  Unary,   ///< op args[0]
  Binary,  ///< args[0] op args[1]
  Select,  ///< args[0] ? args[1] : args[2]
  Call,    ///< name(args...)
};

enum class Op {
  Neg,
  Not,  // unary
  Add,
  Sub,
  Mul,
  Div,
  Pow,  // arithmetic (Pow: integer exponent only)
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  And,
  Or,  // logic, result 0 or 1
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  ExprKind kind;
  Op op = Op::Add;
  double value = 0;
  std::string unit;  ///< Number only: unit symbol before fold-units ("" = none)
  std::string name;  ///< Var, Index (matrix), Call (function)
  int row = 0, col = 0;
  std::vector<ExprPtr> args;
  SourceLoc loc;
};

ExprPtr num(double v, SourceLoc loc = {});
ExprPtr quantity(double v, std::string unit, SourceLoc loc = {});
ExprPtr var(std::string name, SourceLoc loc = {});
ExprPtr index(std::string matrix, int row, int col, SourceLoc loc = {});
ExprPtr unary(Op op, ExprPtr a, SourceLoc loc = {});
ExprPtr binary(Op op, ExprPtr a, ExprPtr b, SourceLoc loc = {});
ExprPtr select(ExprPtr c, ExprPtr a, ExprPtr b, SourceLoc loc = {});
ExprPtr call(std::string fn, std::vector<ExprPtr> args, SourceLoc loc = {});

ExprPtr operator+(ExprPtr a, ExprPtr b);
ExprPtr operator-(ExprPtr a, ExprPtr b);
ExprPtr operator*(ExprPtr a, ExprPtr b);
ExprPtr operator/(ExprPtr a, ExprPtr b);

bool is_number(const ExprPtr &e, double v);
bool is_constant(const ExprPtr &e);              ///< a Number without unit
bool equal(const ExprPtr &a, const ExprPtr &b);  ///< structural equality

/// Spelling of an operator as it appears in text (`+`, `<=`, `&&`, `-` for Neg...).
const char *op_spelling(Op op);
bool is_comparison_or_logic(Op op);

/// Math functions the IR knows, with their arity (-1: unknown function).
int builtin_arity(const std::string &fn);

/// Textual form of an expression with minimal parentheses (parsed back by IRParser).
std::string to_string(const ExprPtr &e);

/// Shortest decimal spelling of a double that reads back exactly.
std::string format_number(double v);

}  // namespace snnc::ir
