// Pass.cpp — pass registry and pipeline driver.
#include "Pass.h"

#include "Verifier.h"
#include "passes/DiscretiseOdes.h"
#include "passes/FoldUnits.h"
#include "passes/FuseNeuronUpdate.h"
#include "passes/MakeEventDriven.h"

namespace snnc::ir {

const std::vector<PassInfo> &all_passes() {
  static const std::vector<PassInfo> passes = {
      {"fold-units", "unit literals to SI doubles; constant folding", fold_units},
      {"discretise-odes", "odes to a step block (exact / exponential Euler / RK4 / Euler)",
       discretise_odes},
      {"fuse-neuron-update", "update, threshold, reset and refractory in one kernel",
       fuse_neuron_update},
      {"make-event-driven", "connections stored as CSR and propagated per spike",
       make_event_driven},
  };
  return passes;
}

const PassInfo *find_pass(const std::string &name) {
  for (const auto &p : all_passes())
    if (name == p.name) return &p;
  return nullptr;
}

std::vector<std::string> default_pipeline() {
  return {"fold-units", "discretise-odes", "fuse-neuron-update", "make-event-driven"};
}

bool run_pipeline(Module &m, DiagnosticEngine &diags, const std::vector<std::string> &names,
                  const std::function<void(const std::string &, const Module &)> &after) {
  for (const auto &name : names) {
    const PassInfo *pass = find_pass(name);
    if (!pass) {
      diags.error({}, "unknown pass '" + name + "'");
      return false;
    }
    if (!pass->run(m, diags)) return false;
    if (!verify(m, diags)) {
      diags.error({}, "IR verification failed after pass '" + name + "'");
      return false;
    }
    if (after) after(name, m);
  }
  return true;
}

}  // namespace snnc::ir
