// Driver.h — the compile pipeline shared by the snnc subcommands.
//
// Reads a file, parses it (DSL or textual IR), checks and lowers it, and runs passes,
// printing diagnostics as it goes. Each step returns nullopt/false after reporting.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "AST.h"
#include "Diagnostics.h"
#include "IR.h"

namespace snnc::driver {

/// Reads a whole source file; throws std::runtime_error ("cannot read 'PATH': reason", a
/// directory, a file over 64 MiB).
std::string read_source_text(const std::string &path);

/// The same as a buffer; prints `snnc: error: ...` and returns null instead of throwing.
std::shared_ptr<SourceBuffer> read_source(const std::string &path);

/// Parse + Sema. Null on error (diagnostics printed).
std::optional<ast::File> load_checked(const SourceBuffer &buffer, DiagnosticEngine &diags);

/// Parse + Sema + lowering of simulation `sim` ("" = first).
std::optional<ir::Module> load_module(const SourceBuffer &buffer, DiagnosticEngine &diags,
                                      const std::string &sim);

}  // namespace snnc::driver
