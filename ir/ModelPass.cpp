// ModelPass.cpp — model pass registry and pipeline driver.
#include "ModelPass.h"

#include <stdexcept>

#include "ModelVerifier.h"
#include "passes/Autodiff.h"
#include "passes/FuseConvPool.h"
#include "passes/PlanSynapses.h"

namespace snnc::ir {

const std::vector<ModelPassInfo> &all_model_passes() {
  static const std::vector<ModelPassInfo> passes = {
      {"autodiff", "each cell's forward recurrence and its backward (BPTT) step, derived",
       differentiate_cells},
      {"fuse-conv-pool", "a conv2d computes the non-overlapping max-pool that is its only consumer",
       [](Model &m, DiagnosticEngine &) {
         fuse_conv_pool(m);
         return true;
       }},
      {"plan-synapses",
       "per linear/conv layer, the input density below which events beat the dense product",
       [](Model &m, DiagnosticEngine &) {
         plan_synapses(m);
         return true;
       }},
  };
  return passes;
}

const ModelPassInfo *find_model_pass(const std::string &name) {
  for (const auto &p : all_model_passes())
    if (name == p.name) return &p;
  return nullptr;
}

std::vector<std::string> default_model_pipeline() {
  return {"autodiff", "fuse-conv-pool", "plan-synapses"};
}

bool run_model_pipeline(Model &m, DiagnosticEngine &diags, const std::vector<std::string> &names,
                        const std::function<void(const std::string &, const Model &)> &after) {
  for (const auto &name : names) {
    const ModelPassInfo *pass = find_model_pass(name);
    if (!pass) {
      diags.error({}, "unknown model pass '" + name + "'");
      return false;
    }
    if (!pass->run(m, diags)) return false;
    if (!verify(m, diags)) {
      diags.error({}, "model IR verification failed after pass '" + name + "'");
      return false;
    }
    if (after) after(name, m);
  }
  return true;
}

void optimize_model(Model &m) {
  auto buffer = std::make_shared<SourceBuffer>("<model " + m.name + ">", "");
  DiagnosticEngine diags(buffer, false);
  if (!run_model_pipeline(m, diags, {"fuse-conv-pool", "plan-synapses"})) {
    std::string text;
    for (const auto &d : diags.diagnostics()) text += diags.render(d);
    throw std::logic_error("model '" + m.name + "' after the model passes:\n" + text);
  }
}

}  // namespace snnc::ir
