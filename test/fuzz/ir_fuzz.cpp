// ir_fuzz.cpp — fuzzes the textual simulation IR as `snnc opt` reads it: parse, verify,
// print back. Diagnostics are collected, not printed.
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "IRParser.h"
#include "IRPrinter.h"
#include "Verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = std::make_shared<snnc::SourceBuffer>(
      "fuzz.ir", std::string(reinterpret_cast<const char *>(data), size));
  snnc::DiagnosticEngine diags(buffer, /*print=*/false);
  try {
    auto module = snnc::ir::parse_module(*buffer, diags);
    if (module && snnc::ir::verify(*module, diags)) (void)snnc::ir::print(*module);
  } catch (const std::exception &) {
  }
  return 0;
}
