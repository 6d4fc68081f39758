// snn_fuzz.cpp — fuzzes the .snn front end: the parser and the semantic checks on any
// bytes. Diagnostics are collected, not printed; every outcome but a crash is fine.
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "Parser.h"
#include "Sema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = std::make_shared<snnc::SourceBuffer>(
      "fuzz.snn", std::string(reinterpret_cast<const char *>(data), size));
  snnc::DiagnosticEngine diags(buffer, /*print=*/false);
  try {
    if (auto file = snnc::frontend::parse_file(*buffer, diags)) snnc::frontend::check(*file, diags);
  } catch (const std::exception &) {
  }
  return 0;
}
