// ExprUtils.h — algebra on IR expressions: simplification, substitution,
// symbolic differentiation and dependency queries.
//
// These are the tools the passes are built from: discretise-odes differentiates the
// right-hand sides to find linear systems, fold-units simplifies after unit conversion,
// and the (later) autodiff pass reuses `differentiate`.
#pragma once
#include <functional>
#include <map>
#include <set>
#include <string>

#include "Expr.h"

namespace snnc::ir {

/// Constant folding and algebraic identities (x+0, x*1, x*0, 0/x, --x, x-x...) on
/// unit-free expressions; calls to uniform/normal are never folded.
ExprPtr simplify(const ExprPtr &e);

/// Replaces variables by the given expressions (simultaneously).
ExprPtr substitute(const ExprPtr &e, const std::map<std::string, ExprPtr> &replacements);

/// Rewrites every node bottom-up with `fn` (called on nodes whose children are rewritten).
ExprPtr transform(const ExprPtr &e, const std::function<ExprPtr(const ExprPtr &)> &fn);

/// d e / d name, simplified. Comparisons and select conditions are treated as locally
/// constant (their derivative is zero almost everywhere).
ExprPtr differentiate(const ExprPtr &e, const std::string &name);

/// Names of the variables an expression reads (Var and Index matrix names).
std::set<std::string> free_vars(const ExprPtr &e);
bool depends_on(const ExprPtr &e, const std::set<std::string> &names);
bool contains_call(const ExprPtr &e, const std::string &fn);

/// Evaluates an expression. `lookup` resolves variables (throws to report unknown ones);
/// `random` draws for uniform(a, b)/normal(m, s) calls (given the function and args).
double evaluate(const ExprPtr &e, const std::function<double(const std::string &)> &lookup,
                const std::function<double(const std::string &, double, double)> &random = {});

}  // namespace snnc::ir
