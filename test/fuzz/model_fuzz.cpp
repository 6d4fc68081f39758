// model_fuzz.cpp — fuzzes the textual model IR as `snnc opt` reads it: parse, verify each
// model, print it back. Diagnostics are collected, not printed.
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "Model.h"
#include "ModelParser.h"
#include "ModelVerifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = std::make_shared<snnc::SourceBuffer>(
      "fuzz.mir", std::string(reinterpret_cast<const char *>(data), size));
  snnc::DiagnosticEngine diags(buffer, /*print=*/false);
  try {
    if (auto models = snnc::ir::parse_models(*buffer, diags))
      for (const auto &m : *models)
        if (snnc::ir::verify(m, diags)) (void)snnc::ir::print(m);
  } catch (const std::exception &) {
  }
  return 0;
}
