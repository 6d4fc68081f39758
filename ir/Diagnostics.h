// Diagnostics.h — source locations and clang-style error reporting.
//
// Every user-facing error of the compiler (DSL syntax and semantics, textual IR, flags)
// goes through a DiagnosticEngine, which prints `file:line:col: error: message`, the
// source line and a caret, and counts errors so a stage can report several at once.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace snnc {

/// A 1-based line/column position inside one source buffer (0 = unknown).
struct SourceLoc {
  int line = 0;
  int col = 0;
  bool valid() const { return line > 0; }
};

/// A named text buffer (a .snn file, a textual IR file, or a command-line string).
class SourceBuffer {
 public:
  SourceBuffer(std::string name, std::string text);
  const std::string &name() const { return name_; }
  const std::string &text() const { return text_; }
  /// The text of 1-based line `line` without its newline ("" when out of range).
  std::string line_text(int line) const;

 private:
  std::string name_, text_;
  std::vector<size_t> line_starts_;
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  SourceLoc loc;
  std::string message;
};

/// Collects and prints diagnostics for one buffer. Printing happens immediately on
/// `report` (to the stream given at construction, stderr by default).
class DiagnosticEngine {
 public:
  explicit DiagnosticEngine(std::shared_ptr<const SourceBuffer> buffer, bool print = true);

  void error(SourceLoc loc, const std::string &message);
  void warning(SourceLoc loc, const std::string &message);
  void note(SourceLoc loc, const std::string &message);

  int error_count() const { return errors_; }
  bool has_errors() const { return errors_ > 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags_; }
  const SourceBuffer &buffer() const { return *buffer_; }
  /// Renders one diagnostic the way it is printed.
  std::string render(const Diagnostic &d) const;

 private:
  void report(Severity s, SourceLoc loc, const std::string &message);
  std::shared_ptr<const SourceBuffer> buffer_;
  std::vector<Diagnostic> diags_;
  int errors_ = 0;
  bool print_;
};

/// Returns the candidate closest to `name` by edit distance, or "" when none is close
/// enough to be a plausible typo (used for "did you mean" hints).
std::string closest_name(const std::string &name, const std::vector<std::string> &candidates);

/// "; did you mean 'X'?" for the closest candidate, or "" when none is close.
inline std::string did_you_mean(const std::string &name,
                                const std::vector<std::string> &candidates) {
  std::string hint = closest_name(name, candidates);
  return hint.empty() ? "" : "; did you mean '" + hint + "'?";
}

}  // namespace snnc
