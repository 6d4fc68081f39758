// ProgramImpl.h — what a compiled Program holds (the source and its checked syntax tree),
// shared by the library's files; and diagnostics rendered for CompileError.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "AST.h"
#include "Diagnostics.h"
#include "snnc/snnc.h"

namespace snnc {

struct Program::Impl {
  std::shared_ptr<const SourceBuffer> buffer;
  ast::File file;
  std::vector<std::string> warnings;
};

namespace driver {

/// Every diagnostic of `diags`, rendered as the command line prints them, in order.
std::string render_all(const DiagnosticEngine &diags);

/// A DiagnosticEngine on the program's source that collects instead of printing.
inline DiagnosticEngine quiet_diagnostics(const Program::Impl &p) {
  return DiagnosticEngine(p.buffer, /*print=*/false);
}

}  // namespace driver
}  // namespace snnc
