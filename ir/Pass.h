// Pass.h — the registry of IR passes and the default pipeline.
//
// Every pass is a free function `bool pass(Module &, DiagnosticEngine &)` declared in its
// own header under passes/; the registry names them so `snnc opt --pass=NAME` and the
// pipeline (with `--print-after-all`-style dumps) can run any of them.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "Diagnostics.h"
#include "IR.h"

namespace snnc::ir {

using PassFn = bool (*)(Module &, DiagnosticEngine &);

struct PassInfo {
  const char *name;
  const char *summary;
  PassFn run;
};

const std::vector<PassInfo> &all_passes();
const PassInfo *find_pass(const std::string &name);

/// The passes `snnc run` applies, in order.
std::vector<std::string> default_pipeline();

/// Runs `names` in order, verifying after each; `after` (if set) sees the module after
/// each pass. Returns false at the first pass or verifier failure.
bool run_pipeline(Module &m, DiagnosticEngine &diags, const std::vector<std::string> &names,
                  const std::function<void(const std::string &, const Module &)> &after = {});

}  // namespace snnc::ir
