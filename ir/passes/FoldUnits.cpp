// FoldUnits.cpp — converts unit literals to SI and simplifies every expression.
#include "FoldUnits.h"

#include "ExprUtils.h"
#include "Mutate.h"

namespace snnc::ir {

bool fold_units(Module &m, DiagnosticEngine &diags) {
  bool ok = true;
  mutate_exprs(m, [&](const ExprPtr &e) {
    ExprPtr si = transform(e, [&](const ExprPtr &n) -> ExprPtr {
      if (n->kind != ExprKind::Number || n->unit.empty()) return n;
      auto unit = parse_unit(n->unit);
      if (!unit) {
        diags.error(n->loc, "unknown unit '" + n->unit + "'");
        ok = false;
        return n;
      }
      return num(n->value * unit->scale, n->loc);
    });
    return simplify(si);
  });
  return ok;
}

}  // namespace snnc::ir
