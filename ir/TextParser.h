// TextParser.h — what the parsers of the textual IRs share: the tokenizer, token helpers
// with located errors, the expression grammar (what `to_string(ExprPtr)` prints) and
// statement blocks.
//
// IRParser (simulation modules) and ModelParser (layer networks) derive from TextParser
// and add their own structure on top. A syntax error is reported through the
// DiagnosticEngine (file:line:col and a caret) and unwinds the parse with ParseError.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "Diagnostics.h"
#include "IR.h"

namespace snnc::ir {

struct Token {
  enum Kind { Ident, Number, Punct, Unit, String, End } kind = End;
  std::string text;
  SourceLoc loc;
};

/// Thrown after a syntax error has been reported.
struct ParseError {};

/// Splits IR text into tokens (`//` comments skipped; `20[ms]` is a number and a unit);
/// the last token is End.
std::vector<Token> lex_ir(const std::string &text);

class TextParser {
 protected:
  TextParser(const SourceBuffer &buffer, DiagnosticEngine &diags);

  DiagnosticEngine &diags_;
  std::vector<Token> toks_;
  size_t pos_ = 0;

  const Token &peek(size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  const Token &previous() const { return toks_[pos_ ? pos_ - 1 : 0]; }
  Token next();
  bool at(const char *text) const { return peek().kind != Token::End && peek().text == text; }
  bool accept(const char *text);
  [[noreturn]] void fail(const Token &t, const std::string &msg);
  static std::string describe(const Token &t);
  void expect(const char *text);
  std::string ident(const char *what);
  int64_t integer(const char *what);

  ExprPtr expr();
  /// `{ let x = e  set y = e  spike e }`: the statements of a step/reset/kernel block.
  std::vector<Stmt> block();

 private:
  int depth_ = 0;
  ExprPtr ternary();
  ExprPtr binary_level(int level);
  ExprPtr unary_expr();
  ExprPtr power();
  ExprPtr atom();
};

}  // namespace snnc::ir
