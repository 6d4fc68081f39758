// MakeEventDriven.cpp — validates connection parameters and selects CSR propagation.
#include "MakeEventDriven.h"

#include "ExprUtils.h"

namespace snnc::ir {

bool make_event_driven(Module &m, DiagnosticEngine &diags) {
  bool ok = true;
  for (auto &c : m.connections) {
    if (c.kind == Connection::Random) {
      if (!is_constant(c.p) || c.p->value < 0 || c.p->value > 1) {
        diags.error(c.p->loc, "connection probability of '" + c.name +
                                  "' must be a constant between 0 and 1 (after folding: " +
                                  to_string(c.p) + ")");
        ok = false;
        continue;
      }
    }
    if (c.kind == Connection::OneToOne) {
      const Population *post = m.find_population(c.post);
      int64_t n_pre = 0;
      if (auto *pp = m.find_population(c.pre))
        n_pre = pp->size;
      else if (auto *s = m.find_source(c.pre))
        n_pre = s->size;
      if (post && n_pre != post->size) {
        diags.error(c.loc, "one_to_one connection '" + c.name + "' joins groups of sizes " +
                               std::to_string(n_pre) + " and " + std::to_string(post->size));
        ok = false;
        continue;
      }
    }
    c.event_driven = true;
  }
  return ok;
}

}  // namespace snnc::ir
