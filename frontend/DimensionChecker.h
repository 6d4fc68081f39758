// DimensionChecker.h — infers the physical dimension of DSL expressions.
//
// Used by Sema for every expression it meets: literals get the dimension of their unit,
// names that of their declaration, and operators combine or compare dimensions
// (`mV + ms` is an error pointing at the `+`). A plain `0` fits any dimension.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "Diagnostics.h"
#include "Expr.h"
#include "Units.h"

namespace snnc::frontend {

/// The names visible inside a neuron, with their dimensions.
struct NeuronScope {
  std::map<std::string, Dim> dims;
  std::set<std::string> params, states, inputs, lets;
  std::vector<std::string> order;
};

bool is_builtin(const std::string &name);

/// Adds `name` with `dim` to `scope`; reports reserved, builtin and duplicate names.
bool declare_name(NeuronScope &scope, const std::string &name, SourceLoc loc, Dim dim,
                  DiagnosticEngine &diags);
/// The dimension of a unit annotation (`mV`, `real`; "" is dimensionless), or nullopt after
/// reporting an unknown unit at `loc`.
std::optional<Dim> annotation_dim(const std::string &text, SourceLoc loc, DiagnosticEngine &diags);
bool is_condition(const ir::ExprPtr &e);

class DimensionChecker {
 public:
  explicit DimensionChecker(DiagnosticEngine &diags) : diags_(diags) {}

  /// The dimension of `e`, or nullopt after reporting an error. `allow_random` permits
  /// uniform(a, b)/normal(m, s) (initial values and weights only).
  std::optional<Dim> infer(const ir::ExprPtr &e, const NeuronScope &scope, bool allow_random);

  /// Reports "<what> has dimension 'X', expected 'Y'" unless they agree (or e is 0).
  void expect_dim(const ir::ExprPtr &e, const Dim &got, const Dim &want, const std::string &what);

  /// The SI value of a name-free expression, or nullopt.
  std::optional<double> constant_value(const ir::ExprPtr &e);

 private:
  DiagnosticEngine &diags_;
  int depth_ = 0;
};

}  // namespace snnc::frontend
