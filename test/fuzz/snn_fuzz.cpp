// snn_fuzz.cpp — fuzzes the .snn front end on any bytes: the parser, the semantic checks
// and, for a file that passes them, what `snnc run` does before code generation (each
// simulation lowered and put through the default pipeline, each experiment lowered with
// its model passes). Diagnostics are collected, not printed; every outcome but a crash is
// fine.
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "LowerExperiment.h"
#include "LowerToIR.h"
#include "Parser.h"
#include "Pass.h"
#include "Sema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = std::make_shared<snnc::SourceBuffer>(
      "fuzz.snn", std::string(reinterpret_cast<const char *>(data), size));
  snnc::DiagnosticEngine diags(buffer, /*print=*/false);
  try {
    auto file = snnc::frontend::parse_file(*buffer, diags);
    if (!file || !snnc::frontend::check(*file, diags)) return 0;
    for (const auto &s : file->simulations)
      if (auto m = snnc::frontend::lower_simulation(*file, s.name, diags))
        snnc::ir::run_pipeline(*m, diags, snnc::ir::default_pipeline());
    for (const auto &e : file->experiments)
      (void)snnc::frontend::lower_experiment(*file, e.name, diags);
  } catch (const std::exception &) {
  }
  return 0;
}
