// model_fuzz.cpp — fuzzes the textual model IR as `snnc opt` reads it: parse, verify each
// model, print it back, run the default model pipeline. Diagnostics are collected, not
// printed.
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "Model.h"
#include "ModelParser.h"
#include "ModelPass.h"
#include "ModelVerifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = std::make_shared<snnc::SourceBuffer>(
      "fuzz.mir", std::string(reinterpret_cast<const char *>(data), size));
  snnc::DiagnosticEngine diags(buffer, /*print=*/false);
  try {
    if (auto models = snnc::ir::parse_models(*buffer, diags))
      for (auto &m : *models)
        if (snnc::ir::verify(m, diags)) {
          (void)snnc::ir::print(m);
          snnc::ir::run_model_pipeline(m, diags, snnc::ir::default_model_pipeline());
        }
  } catch (const std::exception &) {
  }
  return 0;
}
