// Parser.h — the .snn parser: source text -> ast::File.
//
// Built on the ANTLR grammar in grammar/Snn.g4 (only Parser.cpp sees ANTLR). Syntax errors
// are reported clang-style through the DiagnosticEngine with 1-based line/column and
// short messages (`unexpected '}' (expected an expression)`); parsing recovers so that
// several errors can be reported per file. Never throws, never recurses without bound.
#pragma once
#include <optional>

#include "AST.h"
#include "Diagnostics.h"

namespace snnc::frontend {

/// Parses a whole .snn buffer. Syntax errors are reported to `diags` (several per file
/// where ANTLR recovers) and the result is nullopt if any error was reported.
std::optional<ast::File> parse_file(const SourceBuffer &buffer, DiagnosticEngine &diags);

}  // namespace snnc::frontend
