// ModelPass.h — the registry of model passes (passes on ir::Model, the IR of trainable
// layer networks) and the default model pipeline.
//
// Mirrors Pass.h for the simulation IR: every model pass is a free function declared in
// its own header under passes/; the registry names them so `snnc opt --pass=NAME` on a
// model IR file and the pipeline (with `--print-after-all`-style dumps) can run any of
// them, with the model verifier after each.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "Diagnostics.h"
#include "Model.h"

namespace snnc::ir {

using ModelPassFn = bool (*)(Model &, DiagnosticEngine &);

struct ModelPassInfo {
  const char *name;
  const char *summary;
  ModelPassFn run;
};

const std::vector<ModelPassInfo> &all_model_passes();
const ModelPassInfo *find_model_pass(const std::string &name);

/// The passes every lowered model goes through before code generation, in order:
/// autodiff, fuse-conv-pool, plan-synapses.
std::vector<std::string> default_model_pipeline();

/// Runs `names` in order, verifying after each; `after` (if set) sees the model after each
/// pass. Returns false at the first pass or verifier failure.
bool run_model_pipeline(Model &m, DiagnosticEngine &diags, const std::vector<std::string> &names,
                        const std::function<void(const std::string &, const Model &)> &after = {});

/// The default pipeline after autodiff (fuse-conv-pool, plan-synapses) on a model already
/// differentiated; throws std::logic_error if the verifier refuses the result.
void optimize_model(Model &model);

}  // namespace snnc::ir
