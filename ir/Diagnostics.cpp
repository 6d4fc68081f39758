// Diagnostics.cpp — clang-style rendering of errors with the source line and a caret.
#include "Diagnostics.h"

#include <algorithm>
#include <iostream>

namespace snnc {

SourceBuffer::SourceBuffer(std::string name, std::string text)
    : name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::string SourceBuffer::line_text(int line) const {
  if (line < 1 || static_cast<size_t>(line) > line_starts_.size()) return "";
  size_t begin = line_starts_[line - 1];
  size_t end = text_.find('\n', begin);
  if (end == std::string::npos) end = text_.size();
  std::string s = text_.substr(begin, end - begin);
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

DiagnosticEngine::DiagnosticEngine(std::shared_ptr<const SourceBuffer> buffer, bool print)
    : buffer_(std::move(buffer)), print_(print) {}

void DiagnosticEngine::error(SourceLoc loc, const std::string &m) {
  report(Severity::Error, loc, m);
}
void DiagnosticEngine::warning(SourceLoc loc, const std::string &m) {
  report(Severity::Warning, loc, m);
}
void DiagnosticEngine::note(SourceLoc loc, const std::string &m) {
  report(Severity::Note, loc, m);
}

void DiagnosticEngine::report(Severity s, SourceLoc loc, const std::string &message) {
  diags_.push_back({s, loc, message});
  if (s == Severity::Error) ++errors_;
  if (print_) std::cerr << render(diags_.back()) << std::flush;
}

std::string DiagnosticEngine::render(const Diagnostic &d) const {
  const char *kind = d.severity == Severity::Error     ? "error"
                     : d.severity == Severity::Warning ? "warning"
                                                       : "note";
  std::string out = buffer_->name();
  if (d.loc.valid()) out += ":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col);
  out += std::string(": ") + kind + ": " + d.message + "\n";
  if (d.loc.valid()) {
    std::string line = buffer_->line_text(d.loc.line);
    out += line + "\n";
    std::string caret;
    for (int i = 1; i < d.loc.col && i <= static_cast<int>(line.size()); ++i)
      caret += line[i - 1] == '\t' ? '\t' : ' ';
    out += caret + "^\n";
  }
  return out;
}

static size_t edit_distance(const std::string &a, const std::string &b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_name(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, std::min<size_t>(3, (name.size() + 1) / 2));
  for (const auto &c : candidates) {
    size_t d = edit_distance(name, c);
    if (d <= best_d && (best.empty() || d < edit_distance(name, best))) best = c;
  }
  if (best.empty() && name.size() >= 3) {  // an abbreviation: `fuse` for `fuse-neuron-update`
    for (const auto &c : candidates) {
      if (c.compare(0, name.size(), name) != 0) continue;
      if (!best.empty()) return "";  // ambiguous
      best = c;
    }
  }
  return best;
}

}  // namespace snnc
