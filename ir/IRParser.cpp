// IRParser.cpp — tokenizer and recursive-descent parser for the textual IR.
#include "IRParser.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace snnc::ir {
namespace {

struct Token {
  enum Kind { Ident, Number, Punct, Unit, End } kind = End;
  std::string text;
  SourceLoc loc;
};

struct ParseError {};

class IRParser {
 public:
  IRParser(const SourceBuffer &buf, DiagnosticEngine &diags) : diags_(diags) { lex(buf.text()); }

  std::optional<Module> run() {
    try {
      Module m = module();
      if (diags_.has_errors()) return std::nullopt;
      return m;
    } catch (const ParseError &) {
      return std::nullopt;
    }
  }

 private:
  DiagnosticEngine &diags_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;

  // ---- lexing ----
  void lex(const std::string &s) {
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
        toks_.push_back(t);
        Token u;
        u.kind = Token::Unit;
        u.loc = {line, col + 1};
        advance(1);
        size_t ustart = i;
        while (i < s.size() && s[i] != ']' && s[i] != '\n') advance(1);
        u.text = s.substr(ustart, i - ustart);
        if (i < s.size() && s[i] == ']') advance(1);
        toks_.push_back(u);
        continue;
      }
      toks_.push_back(t);
    }
    Token end;
    end.loc = {line, col};
    toks_.push_back(end);
  }

  // ---- helpers ----
  const Token &peek(size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  Token next() {
    Token t = peek();
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }
  bool at(const char *text) const { return peek().kind != Token::End && peek().text == text; }
  bool accept(const char *text) {
    if (!at(text)) return false;
    next();
    return true;
  }
  [[noreturn]] void fail(const Token &t, const std::string &msg) {
    diags_.error(t.loc, msg);
    throw ParseError{};
  }
  std::string describe(const Token &t) {
    return t.kind == Token::End ? "end of file" : "'" + t.text + "'";
  }
  void expect(const char *text) {
    if (!accept(text))
      fail(peek(), std::string("expected '") + text + "', found " + describe(peek()));
  }
  std::string ident(const char *what) {
    if (peek().kind != Token::Ident)
      fail(peek(), std::string("expected ") + what + ", found " + describe(peek()));
    return next().text;
  }
  int64_t integer(const char *what) {
    if (peek().kind != Token::Number)
      fail(peek(), std::string("expected ") + what + ", found " + describe(peek()));
    Token t = next();
    char *end = nullptr;
    long long v = std::strtoll(t.text.c_str(), &end, 10);
    if (*end != '\0')
      fail(t, std::string("expected an integer ") + what + ", found '" + t.text + "'");
    return v;
  }
  Dim dim() {
    Token t = peek();
    std::string text;
    // a unit spelled with identifiers, numbers, '*', '/', '^', '-'
    while (peek().loc.line == t.loc.line &&
           (peek().kind == Token::Ident || peek().kind == Token::Number || at("*") || at("/") ||
            at("^") || (at("-") && !text.empty() && text.back() == '^'))) {
      text += next().text;
      if (peek().kind == Token::Punct && at("=")) break;
    }
    auto u = parse_unit(text);
    if (!u) fail(t, "unknown unit '" + text + "'");
    if (u->scale != 1.0) fail(t, "IR units must be SI without prefix, found '" + text + "'");
    return u->dim;
  }

  // ---- expressions ----
  ExprPtr expr() {
    if (++depth_ > 500) fail(peek(), "expression nested too deeply");
    ExprPtr e = ternary();
    --depth_;
    return e;
  }
  ExprPtr ternary() {
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
  ExprPtr binary_level(int level) {
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
  ExprPtr unary_expr() {
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
  ExprPtr power() {
    ExprPtr base = atom();
    if (at("^")) {
      SourceLoc loc = next().loc;
      ExprPtr exponent = unary_expr();
      return binary(Op::Pow, base, exponent, loc);
    }
    return base;
  }
  ExprPtr atom() {
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

  // ---- structure ----
  Param param() {
    Param p;
    p.loc = peek().loc;
    p.name = ident("a parameter name");
    expect(":");
    p.dim = dim();
    expect("=");
    p.value = expr();
    return p;
  }

  std::vector<Stmt> block() {
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
        fail(toks_[pos_ - 1], "expected 'let', 'set' or 'spike', found '" + kw + "'");
      }
      s.value = expr();
      out.push_back(std::move(s));
    }
    expect("}");
    return out;
  }

  Population population() {
    Population p;
    p.loc = peek().loc;
    p.name = ident("a population name");
    expect(":");
    p.neuron = ident("a neuron name");
    if (ident("'size'") != "size") fail(toks_[pos_ - 1], "expected 'size'");
    p.size = integer("size");
    if (ident("'method'") != "method") fail(toks_[pos_ - 1], "expected 'method'");
    Token mt = peek();
    auto m = parse_method(ident("a method"));
    if (!m) fail(mt, "unknown integration method '" + mt.text + "'");
    p.method = *m;
    expect("{");
    while (!at("}")) {
      Token kw = peek();
      std::string k = ident("a population item");
      if (k == "param") {
        p.params.push_back(param());
      } else if (k == "state") {
        StateVar s;
        s.loc = peek().loc;
        s.name = ident("a state name");
        expect(":");
        s.dim = dim();
        expect("=");
        s.init = expr();
        p.states.push_back(std::move(s));
      } else if (k == "input") {
        InputVar in;
        in.loc = peek().loc;
        in.name = ident("an input name");
        expect(":");
        in.dim = dim();
        p.inputs.push_back(std::move(in));
      } else if (k == "ode") {
        Ode o;
        o.loc = peek().loc;
        o.var = ident("a state name");
        expect("=");
        o.rhs = expr();
        p.odes.push_back(std::move(o));
      } else if (k == "propagator") {
        Propagator pr;
        pr.name = ident("a propagator name");
        expect("[");
        do pr.vars.push_back(ident("a state name"));
        while (accept(","));
        expect("]");
        expect("=");
        expect("[");
        do {
          expect("[");
          std::vector<ExprPtr> row;
          do row.push_back(expr());
          while (accept(","));
          expect("]");
          pr.a.push_back(std::move(row));
        } while (accept(","));
        expect("]");
        p.propagators.push_back(std::move(pr));
      } else if (k == "step") {
        p.step = block();
      } else if (k == "threshold") {
        p.threshold = expr();
      } else if (k == "reset") {
        p.reset = block();
      } else if (k == "refractory") {
        p.refractory = expr();
        if (ident("'clamp'") != "clamp") fail(toks_[pos_ - 1], "expected 'clamp'");
        expect("[");
        if (!at("]")) {
          do p.clamp.push_back(ident("a state name"));
          while (accept(","));
        }
        expect("]");
      } else if (k == "kernel") {
        p.fused = true;
        p.kernel = block();
      } else {
        fail(kw, "unknown population item '" + k + "'");
      }
    }
    expect("}");
    return p;
  }

  Source source() {
    Source s;
    s.loc = peek().loc;
    s.name = ident("a source name");
    expect(":");
    Token kt = peek();
    std::string kind = ident("'current' or 'poisson'");
    if (kind == "current")
      s.kind = Source::Current;
    else if (kind == "poisson")
      s.kind = Source::Poisson;
    else
      fail(kt, "unknown source kind '" + kind + "'");
    if (ident("'size'") != "size") fail(toks_[pos_ - 1], "expected 'size'");
    s.size = integer("size");
    if (accept("->")) {
      do {
        std::string pop = ident("a population name");
        expect(".");
        s.targets.push_back(pop + "." + ident("an input name"));
      } while (accept(","));
    }
    expect("{");
    while (!at("}")) {
      if (ident("'param'") != "param") fail(toks_[pos_ - 1], "expected 'param'");
      s.params.push_back(param());
    }
    expect("}");
    return s;
  }

  Connection connection(bool event_driven) {
    Connection c;
    c.event_driven = event_driven;
    c.loc = peek().loc;
    c.name = ident("a connection name");
    expect(":");
    c.pre = ident("a group name");
    expect("->");
    c.post = ident("a population name");
    expect(".");
    c.target = ident("a target variable");
    Token kt = peek();
    std::string kind = ident("a connection kind");
    if (kind == "all_to_all")
      c.kind = Connection::AllToAll;
    else if (kind == "one_to_one")
      c.kind = Connection::OneToOne;
    else if (kind == "random") {
      c.kind = Connection::Random;
      expect("(");
      if (ident("'p'") != "p") fail(toks_[pos_ - 1], "expected 'p'");
      expect("=");
      c.p = expr();
      expect(")");
    } else
      fail(kt, "unknown connection kind '" + kind + "'");
    while (peek().kind == Token::Ident && peek().loc.line == kt.loc.line) {
      Token t = next();
      if (t.text == "weight") {
        expect("=");
        c.weight = expr();
      } else if (t.text == "no_autapses")
        c.autapses = false;
      else if (t.text == "csr") {
        if (!event_driven) fail(t, "'csr' only on 'propagate'");
      } else
        fail(t, "unknown connection attribute '" + t.text + "'");
    }
    return c;
  }

  Record record() {
    Record r;
    r.loc = peek().loc;
    std::string kind = ident("'spikes' or 'trace'");
    if (kind == "spikes") {
      r.kind = Record::Spikes;
      r.group = ident("a group name");
      if (accept("[")) {
        r.begin = integer("range start");
        expect(":");
        r.end = integer("range end");
        expect("]");
      }
    } else if (kind == "trace") {
      r.kind = Record::Trace;
      r.group = ident("a population name");
      expect(".");
      r.var = ident("a state name");
      expect("[");
      if (!at("]")) {
        do r.neurons.push_back(integer("neuron index"));
        while (accept(","));
      }
      expect("]");
    } else {
      fail(toks_[pos_ - 1], "expected 'spikes' or 'trace', found '" + kind + "'");
    }
    return r;
  }

  Module module() {
    Module m;
    if (ident("'module'") != "module") fail(toks_[pos_ - 1], "expected 'module'");
    m.name = ident("a module name");
    expect("{");
    while (!at("}")) {
      Token kw = peek();
      std::string k = ident("a module item");
      if (k == "sim")
        m.sim_params.push_back(param());
      else if (k == "seed")
        m.seed = static_cast<uint64_t>(integer("seed"));
      else if (k == "population")
        m.populations.push_back(population());
      else if (k == "source")
        m.sources.push_back(source());
      else if (k == "connect")
        m.connections.push_back(connection(false));
      else if (k == "propagate")
        m.connections.push_back(connection(true));
      else if (k == "record")
        m.records.push_back(record());
      else
        fail(kw, "unknown module item '" + k + "'");
    }
    expect("}");
    if (peek().kind != Token::End)
      fail(peek(), "unexpected " + describe(peek()) + " after the module");
    return m;
  }
};

}  // namespace

std::optional<Module> parse_module(const SourceBuffer &buffer, DiagnosticEngine &diags) {
  return IRParser(buffer, diags).run();
}

}  // namespace snnc::ir
