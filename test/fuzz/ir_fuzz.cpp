// ir_fuzz.cpp — fuzzes the textual simulation IR as `snnc opt` reads it: parse, verify,
// print back, run the default pass pipeline. Diagnostics are collected, not printed.
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "IRParser.h"
#include "IRPrinter.h"
#include "Pass.h"
#include "Verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = std::make_shared<snnc::SourceBuffer>(
      "fuzz.ir", std::string(reinterpret_cast<const char *>(data), size));
  snnc::DiagnosticEngine diags(buffer, /*print=*/false);
  try {
    auto module = snnc::ir::parse_module(*buffer, diags);
    if (!module || !snnc::ir::verify(*module, diags)) return 0;
    (void)snnc::ir::print(*module);
    snnc::ir::run_pipeline(*module, diags, snnc::ir::default_pipeline());
  } catch (const std::exception &) {
  }
  return 0;
}
