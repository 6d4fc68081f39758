// TextParser.cpp — tokenizer, token helpers and expression parser of the textual IRs.
#include "TextParser.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace snnc::ir {

std::vector<Token> lex_ir(const std::string &s) {
  std::vector<Token> toks;
  int line = 1, col = 1;
  size_t i = 0;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && i < s.size(); ++k, ++i) {
      if (s[i] == '\n')
        ++line, col = 1;
      else
        ++col;
    }
  };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      advance(1);
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      while (i < s.size() && s[i] != '\n') advance(1);
      continue;
    }
    Token t;
    t.loc = {line, col};
    size_t start = i;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_'))
        advance(1);
      t.kind = Token::Ident;
    } else if (c == '"') {
      // "text" with the escapes \" and \\, on one line (file paths in the IR)
      advance(1);
      while (i < s.size() && s[i] != '"' && s[i] != '\n') {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] != '\n') advance(1);
        t.text += s[i];
        advance(1);
      }
      if (i < s.size() && s[i] == '"') advance(1);
      t.kind = Token::String;
      toks.push_back(t);
      continue;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      char *end = nullptr;
      std::strtod(s.c_str() + i, &end);
      advance(static_cast<size_t>(end - (s.c_str() + i)));
      t.kind = Token::Number;
    } else {
      static const char *two[] = {"<=", ">=", "==", "!=", "&&", "||", "->"};
      t.kind = Token::Punct;
      bool matched = false;
      for (const char *op : two)
        if (s.compare(i, 2, op) == 0) {
          advance(2);
          matched = true;
          break;
        }
      if (!matched) advance(1);
    }
    t.text = s.substr(start, i - start);
    // a unit right after a number: 20[ms]
    if (t.kind == Token::Number && i < s.size() && s[i] == '[' && i + 1 < s.size() &&
        std::isalpha(static_cast<unsigned char>(s[i + 1]))) {
      toks.push_back(t);
      Token u;
      u.kind = Token::Unit;
      u.loc = {line, col + 1};
      advance(1);
      size_t ustart = i;
      while (i < s.size() && s[i] != ']' && s[i] != '\n') advance(1);
      u.text = s.substr(ustart, i - ustart);
      if (i < s.size() && s[i] == ']') advance(1);
      toks.push_back(u);
      continue;
    }
    toks.push_back(t);
  }
  Token end;
  end.loc = {line, col};
  toks.push_back(end);
  return toks;
}

TextParser::TextParser(const SourceBuffer &buffer, DiagnosticEngine &diags)
    : diags_(diags), toks_(lex_ir(buffer.text())) {}

Token TextParser::next() {
  Token t = peek();
  if (pos_ < toks_.size() - 1) ++pos_;
  return t;
}

bool TextParser::accept(const char *text) {
  if (!at(text)) return false;
  next();
  return true;
}

void TextParser::fail(const Token &t, const std::string &msg) {
  diags_.error(t.loc, msg);
  throw ParseError{};
}

std::string TextParser::describe(const Token &t) {
  return t.kind == Token::End ? "end of file" : "'" + t.text + "'";
}

void TextParser::expect(const char *text) {
  if (!accept(text))
    fail(peek(), std::string("expected '") + text + "', found " + describe(peek()));
}

std::string TextParser::ident(const char *what) {
  if (peek().kind != Token::Ident)
    fail(peek(), std::string("expected ") + what + ", found " + describe(peek()));
  return next().text;
}

int64_t TextParser::integer(const char *what) {
  if (peek().kind != Token::Number)
    fail(peek(), std::string("expected ") + what + ", found " + describe(peek()));
  Token t = next();
  char *end = nullptr;
  long long v = std::strtoll(t.text.c_str(), &end, 10);
  if (*end != '\0')
    fail(t, std::string("expected an integer ") + what + ", found '" + t.text + "'");
  return v;
}

ExprPtr TextParser::expr() {
  if (++depth_ > 500) fail(peek(), "expression nested too deeply");
  ExprPtr e = ternary();
  --depth_;
  return e;
}

ExprPtr TextParser::ternary() {
  ExprPtr c = binary_level(0);
  if (at("?")) {
    SourceLoc loc = next().loc;
    ExprPtr a = expr();
    expect(":");
    ExprPtr b = expr();
    return select(c, a, b, loc);
  }
  return c;
}

// levels: 0 ||, 1 &&, 2 == !=, 3 < <= > >=, 4 + -, 5 * /
ExprPtr TextParser::binary_level(int level) {
  if (level == 6) return unary_expr();
  static const std::vector<std::vector<std::pair<const char *, Op>>> ops = {
      {{"||", Op::Or}},
      {{"&&", Op::And}},
      {{"==", Op::Eq}, {"!=", Op::Ne}},
      {{"<=", Op::Le}, {">=", Op::Ge}, {"<", Op::Lt}, {">", Op::Gt}},
      {{"+", Op::Add}, {"-", Op::Sub}},
      {{"*", Op::Mul}, {"/", Op::Div}}};
  ExprPtr lhs = binary_level(level + 1);
  for (;;) {
    bool found = false;
    for (auto [text, op] : ops[level]) {
      if (peek().kind == Token::Punct && peek().text == text) {
        SourceLoc loc = next().loc;
        ExprPtr rhs = binary_level(level + 1);
        lhs = binary(op, lhs, rhs, loc);
        found = true;
        break;
      }
    }
    if (!found || level == 2 || level == 3) return lhs;
  }
}

ExprPtr TextParser::unary_expr() {
  if (at("-") || at("!")) {
    Token t = next();
    if (++depth_ > 500) fail(t, "expression nested too deeply");
    ExprPtr a = unary_expr();
    --depth_;
    // `-0.06` is one literal (as the printer writes it), not a negation
    if (t.text == "-" && a->kind == ExprKind::Number && !std::signbit(a->value))
      return quantity(-a->value, a->unit, t.loc);
    return unary(t.text == "-" ? Op::Neg : Op::Not, a, t.loc);
  }
  return power();
}

ExprPtr TextParser::power() {
  ExprPtr base = atom();
  if (at("^")) {
    SourceLoc loc = next().loc;
    ExprPtr exponent = unary_expr();
    return binary(Op::Pow, base, exponent, loc);
  }
  return base;
}

ExprPtr TextParser::atom() {
  Token t = peek();
  if (t.kind == Token::Number) {
    next();
    double v = std::strtod(t.text.c_str(), nullptr);
    if (peek().kind == Token::Unit) return quantity(v, next().text, t.loc);
    return num(v, t.loc);
  }
  if (t.kind == Token::Ident) {
    next();
    if (t.text == "inf") return num(HUGE_VAL, t.loc);
    if (accept("(")) {
      std::vector<ExprPtr> args;
      if (!at(")")) {
        do args.push_back(expr());
        while (accept(","));
      }
      expect(")");
      return call(t.text, std::move(args), t.loc);
    }
    if (at("[") && peek(1).kind == Token::Number && peek(2).text == ",") {
      next();
      int r = static_cast<int>(integer("row"));
      expect(",");
      int c = static_cast<int>(integer("column"));
      expect("]");
      return index(t.text, r, c, t.loc);
    }
    return var(t.text, t.loc);
  }
  if (accept("(")) {
    ExprPtr e = expr();
    expect(")");
    return e;
  }
  fail(t, "expected an expression, found " + describe(t));
}

std::vector<Stmt> TextParser::block() {
  std::vector<Stmt> out;
  expect("{");
  while (!at("}")) {
    Stmt s;
    s.loc = peek().loc;
    std::string kw = ident("'let', 'set' or 'spike'");
    if (kw == "spike") {
      s.kind = Stmt::Spike;
    } else if (kw == "let" || kw == "set") {
      s.kind = kw == "let" ? Stmt::Let : Stmt::Set;
      s.name = ident("a variable name");
      expect("=");
    } else {
      fail(previous(), "expected 'let', 'set' or 'spike', found '" + kw + "'");
    }
    s.value = expr();
    out.push_back(std::move(s));
  }
  expect("}");
  return out;
}

}  // namespace snnc::ir
