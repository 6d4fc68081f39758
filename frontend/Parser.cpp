// Parser.cpp — .snn text -> ast::File, on top of the ANTLR grammar grammar/Snn.g4.
//
// Steps: validate UTF-8; lex everything (reporting invalid characters and unterminated
// comments, which the lexer keeps on the hidden channel, and bad strings); parse with an
// error strategy that words ANTLR's errors for humans and a listener that bounds the
// nesting depth; and, if there was no syntax error, build the AST from the parse tree
// (checking what the grammar leaves loose: `dX/dt`, integer slices and tensor shapes,
// literal ranges, layer sources, named arguments and strings outside values, network
// parameter defaults, duplicate items).
// This is the only file of the project that includes ANTLR headers.
#include "Parser.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <exception>
#include <map>
#include <set>

#include "SnnLexer.h"
#include "SnnParser.h"
#include "antlr4-runtime.h"

namespace snnc::frontend {
namespace {

using snnc_grammar::SnnLexer;
using G = snnc_grammar::SnnParser;
using antlr4::ParserRuleContext;
using antlr4::Token;
using antlr4::tree::TerminalNode;

/// Parser rules active at once (one parenthesis level costs about 11). Past this the
/// file is rejected instead of risking the stack.
constexpr int kMaxRuleDepth = 2500;
/// Depth of one expression tree (long chains `a + b + c ...` count one level per operator).
constexpr int kMaxExprDepth = 1000;
/// Larger inputs are refused: the parse tree costs about 150 bytes per byte of source.
constexpr size_t kMaxInputBytes = 8u << 20;
/// Errors reported before giving up on the file.
constexpr int kMaxErrors = 30;

constexpr const char *kStringsOnlyInValues =
    "strings are only used in experiment settings and layer arguments, not in expressions";

/// Thrown to abandon the parse (too many errors, too deep); the errors are already reported.
struct AbortParse {};

// ------------------------------------------------------------------ error reporting

class Reporter {
 public:
  Reporter(const SourceBuffer &buffer, DiagnosticEngine &diags) : buffer_(buffer), diags_(diags) {}

  /// Errors are kept and printed in source order by flush() (the lexer's come first).
  void error(SourceLoc loc, const std::string &message) {
    if (static_cast<int>(pending_.size()) >= kMaxErrors) {
      gave_up_at_ = loc;
      throw AbortParse{};
    }
    pending_.push_back({loc, message, {}});
    last_suppressed_ = false;
  }
  /// A syntax error from the parser, dropped on a line whose unterminated string already
  /// explains it (the string ran to the end of the line and took what should follow).
  void parse_error(SourceLoc loc, const std::string &message, const Token *offending) {
    if ((loc.valid() && bad_string_lines.count(loc.line)) ||
        (offending && after_bad_string.count(offending->getTokenIndex()))) {
      last_suppressed_ = true;
      return;
    }
    error(loc, message);
  }
  /// A note attached to the last error.
  void note(SourceLoc loc, const std::string &message) {
    if (!pending_.empty() && !last_suppressed_) pending_.back().notes.push_back({loc, message});
  }
  int errors() const { return static_cast<int>(pending_.size()); }

  void flush() {
    auto key = [](SourceLoc l) { return std::make_pair(l.valid() ? l.line : INT_MAX, l.col); };
    std::stable_sort(pending_.begin(), pending_.end(),
                     [&](const Pending &a, const Pending &b) { return key(a.loc) < key(b.loc); });
    for (const auto &p : pending_) {
      diags_.error(p.loc, p.message);
      for (const auto &[loc, message] : p.notes) diags_.note(loc, message);
    }
    if (gave_up_at_) diags_.note(*gave_up_at_, "too many errors; giving up on this file");
    pending_.clear();
    gave_up_at_.reset();
  }

  /// After an unterminated comment, "unexpected end of file" would only repeat it.
  bool quiet_at_eof = false;
  /// Lines with an unterminated string, and the index of the token after each.
  std::set<int> bad_string_lines;
  std::set<size_t> after_bad_string;

  /// ANTLR counts columns in code points from 0; diagnostics count bytes from 1. Lines
  /// of pure ASCII map directly; others are walked (from the last position asked for on
  /// the same line, as tokens come mostly in order).
  SourceLoc loc(size_t line, size_t cp_col) {
    if (line == 0) return {};
    if (line_starts_.empty()) index_lines();
    if (line > line_starts_.size() || ascii_[line - 1])
      return {static_cast<int>(line), static_cast<int>(cp_col) + 1};
    const std::string &text = buffer_.text();
    size_t end = line < line_starts_.size() ? line_starts_[line] : text.size();
    if (walk_.line != line || walk_.cp > cp_col) walk_ = {line, 0, line_starts_[line - 1]};
    while (walk_.cp < cp_col && walk_.byte < end) {
      unsigned char c = static_cast<unsigned char>(text[walk_.byte]);
      walk_.byte += c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      ++walk_.cp;
    }
    size_t col = walk_.byte - line_starts_[line - 1] + (cp_col - walk_.cp);
    return {static_cast<int>(line), static_cast<int>(col) + 1};
  }
  SourceLoc loc(const Token *t) {
    if (!t) return {};
    return loc(t->getLine(), t->getCharPositionInLine());
  }
  SourceLoc loc(TerminalNode *n) { return n ? loc(n->getSymbol()) : SourceLoc{}; }

  /// Where to point for a token: EOF points just past the last real token.
  SourceLoc loc_for_error(Token *t, antlr4::TokenStream *stream) {
    if (!t || t->getType() != Token::EOF || !stream) return loc(t);
    for (ssize_t i = static_cast<ssize_t>(t->getTokenIndex()) - 1; i >= 0; --i) {
      Token *prev = stream->get(static_cast<size_t>(i));
      if (prev->getChannel() != Token::DEFAULT_CHANNEL) continue;
      std::string text = prev->getText();
      if (text.find('\n') != std::string::npos) break;
      size_t cps = 0;
      for (unsigned char c : text) cps += (c & 0xC0) != 0x80;
      return loc(prev->getLine(), prev->getCharPositionInLine() + cps);
    }
    return loc(t);
  }

 private:
  const SourceBuffer &buffer_;
  DiagnosticEngine &diags_;
  struct Pending {
    SourceLoc loc;
    std::string message;
    std::vector<std::pair<SourceLoc, std::string>> notes;
  };
  std::vector<Pending> pending_;
  std::optional<SourceLoc> gave_up_at_;
  bool last_suppressed_ = false;
  std::vector<size_t> line_starts_;  ///< byte offset of each line
  std::vector<bool> ascii_;          ///< whether each line is pure ASCII
  struct {
    size_t line = 0, cp = 0, byte = 0;
  } walk_;

  void index_lines() {
    const std::string &text = buffer_.text();
    line_starts_.push_back(0);
    ascii_.push_back(true);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') {
        line_starts_.push_back(i + 1);
        ascii_.push_back(true);
      } else if (static_cast<unsigned char>(text[i]) >= 0x80) {
        ascii_.back() = false;
      }
    }
  }
};

/// `'text'` for a token, with control characters escaped and long text shortened.
std::string quote(const std::string &text) {
  std::string out = "'";
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80 && ++n > 40) {  // count code points, not bytes
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

/// `'$'`, or `'µ' (U+00B5)` for characters that may be invisible or look alike.
std::string describe_char(const std::string &utf8) {
  if (utf8.empty() || static_cast<unsigned char>(utf8[0]) < 0x80) return quote(utf8);
  unsigned char c = static_cast<unsigned char>(utf8[0]);
  uint32_t cp = c >= 0xF0 ? c & 0x07 : c >= 0xE0 ? c & 0x0F : c & 0x1F;
  for (size_t i = 1; i < utf8.size(); ++i)
    cp = (cp << 6) | (static_cast<unsigned char>(utf8[i]) & 0x3F);
  char buf[16];
  std::snprintf(buf, sizeof buf, " (U+%04X)", cp);
  return quote(utf8) + buf;
}

std::string token_display(Token *t) {
  if (!t || t->getType() == Token::EOF) return "end of file";
  return quote(t->getText());
}

bool is_keyword(size_t type) {
  return type >= G::NEURON && type <= G::EXPERIMENT;
}

/// "a, b or c"
std::string join_or(const std::vector<std::string> &items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += i + 1 == items.size() ? " or " : ", ";
    s += items[i];
  }
  return s;
}

/// The token type of a literal such as `(` (implicit tokens of the grammar are unnamed).
ssize_t literal_type(antlr4::Parser *parser, const char *text) {
  const antlr4::dfa::Vocabulary &vocab = parser->getVocabulary();
  std::string quoted = std::string("'") + text + "'";
  for (size_t t = 1; t <= vocab.getMaxTokenType(); ++t)
    if (vocab.getLiteralName(t) == quoted) return static_cast<ssize_t>(t);
  return -2;  // no such token (never: every literal used here is in the grammar)
}

/// Whether the parser is inside an experiment, a layer stage or a network parameter, where
/// a value (strings and calls with named arguments) is expected rather than an expression.
bool in_value(antlr4::RuleContext *c) {
  for (; c; c = dynamic_cast<antlr4::RuleContext *>(c->parent))
    if (dynamic_cast<G::ExperimentDefContext *>(c) || dynamic_cast<G::StageContext *>(c) ||
        dynamic_cast<G::NetParamContext *>(c))
      return true;
  return false;
}

/// A short, human description of a set of expected tokens.
std::string describe_expected(const antlr4::misc::IntervalSet &set, antlr4::Parser *parser) {
  std::vector<ssize_t> toks = set.toList();
  auto has = [&](ssize_t t) { return std::find(toks.begin(), toks.end(), t) != toks.end(); };
  auto drop = [&](std::initializer_list<ssize_t> ts) {
    for (ssize_t t : ts) toks.erase(std::remove(toks.begin(), toks.end(), t), toks.end());
  };
  const antlr4::dfa::Vocabulary &vocab = parser->getVocabulary();
  auto literal = [&](const char *text) { return literal_type(parser, text); };
  std::vector<std::string> names;
  size_t rule = parser->getContext() ? parser->getContext()->getRuleIndex() : size_t(-1);

  if ((rule == G::RuleType || rule == G::RuleUnitAtom || rule == G::RuleNetParamType) &&
      has(G::ID) && has(G::NUMBER)) {
    names.push_back("a unit");
    drop({G::ID, G::NUMBER});
  }
  if (has(G::STATE) && has(G::INPUT) && has(G::SPIKE)) {
    names.push_back("a neuron item");
    drop({G::STATE, G::INPUT, G::LET, G::OUTPUT, G::ID, G::UPDATE, G::SPIKE, G::RESET,
          G::REFRACTORY, G::METHOD});
  }
  if (has(G::POPULATION) && has(G::CONNECT)) {
    names.push_back("a network item");
    drop({G::POPULATION, G::SOURCE, G::CONNECT, G::INPUT, G::OUTPUT, G::ID});
  }
  if ((has(G::RECORD) || (rule == G::RuleExperimentDef && has(literal("}")))) && has(G::ID)) {
    names.push_back("a setting (name = value)");
    drop({G::ID, G::NETWORK});
  }
  if (has(G::NUMBER) && has(G::QUANTITY) && has(literal("("))) {
    names.push_back(in_value(parser->getContext()) ? "a value" : "an expression");
    drop({G::NUMBER, G::QUANTITY, G::ID, G::STRING, literal("("), literal("-"), literal("!")});
  }
  if (has(literal("+")) && has(literal("*")) && has(literal("<"))) {
    names.push_back("an operator");
    for (const char *op :
         {"+", "-", "*", "/", "^", "<", "<=", ">", ">=", "==", "!=", "&&", "||", "?"})
      drop({literal(op)});
  }
  drop({literal(";")});
  if (toks.size() > 1 || !names.empty()) drop({static_cast<ssize_t>(-1)});  // EOF, unless alone
  for (ssize_t t : toks) {
    if (t == -1)
      names.push_back("end of file");
    else if (t == G::ID)
      names.push_back("a name");
    else if (t == G::NUMBER)
      names.push_back("a number");
    else if (t == G::QUANTITY)
      names.push_back("a quantity");
    else if (t == G::STRING)
      names.push_back("a string");
    else
      names.push_back(vocab.getLiteralName(static_cast<size_t>(t)));
  }
  if (names.size() > 6) {
    names.resize(5);
    names.push_back("...");
  }
  return join_or(names);
}

std::string unexpected(Token *t, const antlr4::misc::IntervalSet &expected,
                       antlr4::Parser *parser) {
  std::string msg = "unexpected " + token_display(t);
  std::string exp = describe_expected(expected, parser);
  std::string hint;
  if (t && is_keyword(t->getType()) && expected.contains(static_cast<size_t>(G::ID)))
    hint = quote(t->getText()) + " is a reserved word";
  else if (t && t->getType() == G::STRING && !expected.contains(static_cast<size_t>(G::STRING)) &&
           !in_value(parser->getContext()))
    hint = kStringsOnlyInValues;
  if (!exp.empty() || !hint.empty())
    msg += " (" + (exp.empty() ? "" : "expected " + exp) +
           (exp.empty() || hint.empty() ? "" : "; ") + hint + ")";
  return msg;
}

/// DefaultErrorStrategy with readable messages.
class ErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  explicit ErrorStrategy(Reporter &r) : rep_(r) {}

  /// A keyword where a name is expected (`state input: mV`) is reported once and then
  /// taken as the name, which avoids a cascade of follow-up errors.
  Token *recoverInline(antlr4::Parser *p) override {
    Token *t = p->getCurrentToken();
    if (t && is_keyword(t->getType()) &&
        getExpectedTokens(p).contains(static_cast<size_t>(G::ID))) {
      if (!inErrorRecoveryMode(p)) {
        beginErrorCondition(p);
        p->notifyErrorListeners(
            t, quote(t->getText()) + " is a reserved word and cannot be used as a name", nullptr);
      }
      endErrorCondition(p);
      p->consume();
      return t;
    }
    return DefaultErrorStrategy::recoverInline(p);
  }

 protected:
  void reportNoViableAlternative(antlr4::Parser *p,
                                 const antlr4::NoViableAltException &e) override {
    report(p, e.getOffendingToken(), e.getExpectedTokens(), std::make_exception_ptr(e));
  }
  void reportInputMismatch(antlr4::Parser *p, const antlr4::InputMismatchException &e) override {
    report(p, e.getOffendingToken(), e.getExpectedTokens(), std::make_exception_ptr(e));
  }
  void reportFailedPredicate(antlr4::Parser *p,
                             const antlr4::FailedPredicateException &e) override {
    report(p, e.getOffendingToken(), {}, std::make_exception_ptr(e));
  }
  void reportUnwantedToken(antlr4::Parser *p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p), nullptr);
  }
  void reportMissingToken(antlr4::Parser *p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    Token *t = p->getCurrentToken();
    auto expected = getExpectedTokens(p);
    std::string exp = describe_expected(expected, p);
    if (exp.empty() || !t || t->getType() == Token::EOF) return report(p, t, expected, nullptr);
    p->notifyErrorListeners(t, "missing " + exp + " before " + token_display(t), nullptr);
  }

 private:
  Reporter &rep_;

  void report(antlr4::Parser *p, Token *t, const antlr4::misc::IntervalSet &expected,
              std::exception_ptr e) {
    p->notifyErrorListeners(t, unexpected(t, expected, p), e);
    // At the end of the file, point at the block that is still open.
    if (!t || t->getType() != Token::EOF || rep_.quiet_at_eof ||
        !expected.contains(literal_type(p, "}")))
      return;
    for (antlr4::RuleContext *c = p->getContext(); c;
         c = dynamic_cast<antlr4::RuleContext *>(c->parent)) {
      auto *rc = dynamic_cast<ParserRuleContext *>(c);
      if (!rc) break;
      for (auto *child : rc->children) {
        auto *tn = dynamic_cast<TerminalNode *>(child);
        if (tn && tn->getText() == "{") {
          rep_.note(rep_.loc(tn->getSymbol()), "to match this '{'");
          return;
        }
      }
    }
  }
};

/// Forwards ANTLR's (already worded) syntax errors to the Reporter.
class ErrorListener : public antlr4::BaseErrorListener {
 public:
  explicit ErrorListener(Reporter &r) : rep_(r) {}
  void syntaxError(antlr4::Recognizer *recognizer, Token *offending, size_t line, size_t col,
                   const std::string &msg, std::exception_ptr) override {
    if (offending && offending->getType() == Token::EOF && rep_.quiet_at_eof) return;
    if (offending) {
      auto *parser = dynamic_cast<antlr4::Parser *>(recognizer);
      rep_.parse_error(rep_.loc_for_error(offending, parser ? parser->getTokenStream() : nullptr),
                       msg, offending);
    } else {
      rep_.error(rep_.loc(line, col), msg);  // lexer (not expected: INVALID_CHAR takes all)
    }
  }

 private:
  Reporter &rep_;
};

/// Counts active rules and stops the parse before the nesting can exhaust the stack.
class DepthGuard : public antlr4::tree::ParseTreeListener {
 public:
  DepthGuard(Reporter &r, antlr4::Parser &p) : rep_(r), parser_(p) {}
  void enterEveryRule(ParserRuleContext *) override {
    if (++depth_ > kMaxRuleDepth) {
      Token *t = parser_.getCurrentToken();
      rep_.error(rep_.loc(t),
                 "nesting is too deep here (parentheses, operators and calls nested "
                 "hundreds of levels); simplify this expression");
      throw AbortParse{};
    }
  }
  void exitEveryRule(ParserRuleContext *) override { --depth_; }
  void visitTerminal(TerminalNode *) override {}
  void visitErrorNode(antlr4::tree::ErrorNode *) override {}

 private:
  Reporter &rep_;
  antlr4::Parser &parser_;
  int depth_ = 0;
};

/// Reports the first invalid UTF-8 sequence (the lexer needs valid text).
bool check_utf8(const SourceBuffer &buffer, Reporter &rep) {
  const std::string &s = buffer.text();
  int line = 1, col = 1;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80)
      len = 1, cp = c;
    else if (c >= 0xC2 && c <= 0xDF)
      len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
      len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
      len = 4, cp = c & 0x07;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
               (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))))
      ok = false;
    if (!ok) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02X", c);
      rep.error({line, col},
                std::string("invalid UTF-8 byte ") + buf + " (the file must be UTF-8 text)");
      return false;
    }
    if (c == '\n')
      line++, col = 1;
    else
      col += static_cast<int>(len);
    i += len;
  }
  return true;
}

/// Checks a STRING token (the lexer also takes unterminated ones): reports a missing
/// closing quote at the opening quote and unknown escapes at their backslash. Returns
/// false for an unterminated string.
bool check_string(Token *t, Reporter &rep) {
  const std::string s = t->getText();
  size_t cps = 1;  // code points before position i (the opening quote)
  for (size_t i = 1; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') return true;  // the lexer ends a string at its first unescaped quote
    if (c == '\\') {
      if (i + 1 >= s.size()) break;  // a backslash at the end of the line
      char e = s[i + 1];
      if (e != '"' && e != '\\' && e != 'n' && e != 't') {
        unsigned char ec = static_cast<unsigned char>(e);  // may start a multi-byte character
        size_t len = ec >= 0xF0 ? 4 : ec >= 0xE0 ? 3 : ec >= 0xC0 ? 2 : 1;
        rep.error(rep.loc(t->getLine(), t->getCharPositionInLine() + cps),
                  "unknown escape " + quote("\\" + s.substr(i + 1, len)) +
                      " in a string (the escapes are \\\", \\\\, \\n and \\t)");
      }
      i += 2;
      cps += 2;
      // skip the rest of a multi-byte escaped character
      while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
      continue;
    }
    i += c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    ++cps;
  }
  SourceLoc at = rep.loc(t);
  rep.error(at, "unterminated string (a '\"' without its closing '\"' on the same line)");
  rep.bad_string_lines.insert(at.line);
  return false;
}

/// The contents of a (checked) STRING token, escapes decoded.
std::string unescape(const std::string &s) {
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') break;
    if (c == '\\' && i + 1 < s.size()) {
      char e = s[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
    } else {
      out += c;
    }
  }
  return out;
}

// ------------------------------------------------------------------ parse tree -> AST

std::string text(TerminalNode *n) {
  return n ? n->getText() : std::string();
}

struct Built {
  ir::ExprPtr e;
  int depth = 1;
};

class Builder {
 public:
  explicit Builder(Reporter &r) : rep_(r) {}

  ast::File file(G::FileContext *ctx) {
    ast::File f;
    for (auto *item : ctx->topItem()) {
      if (auto *n = item->neuronDef())
        f.neurons.push_back(neuron(n));
      else if (auto *sd = item->synapseDef())
        f.synapses.push_back(synapse(sd));
      else if (auto *n = item->networkDef())
        f.networks.push_back(network(n));
      else if (auto *s = item->simulationDef())
        f.simulations.push_back(simulation(s));
      else if (auto *e = item->experimentDef())
        f.experiments.push_back(experiment(e));
    }
    return f;
  }

 private:
  Reporter &rep_;

  SourceLoc loc(TerminalNode *n) { return rep_.loc(n); }
  SourceLoc loc(Token *t) const { return rep_.loc(t); }
  SourceLoc loc(ParserRuleContext *c) const { return c ? rep_.loc(c->getStart()) : SourceLoc{}; }

  // ---- neurons ----

  ast::NeuronDef neuron(G::NeuronDefContext *ctx) {
    ast::NeuronDef n;
    n.name = text(ctx->ID());
    n.loc = loc(ctx->ID());
    if (auto *pl = ctx->paramList())
      for (auto *p : pl->param()) n.params.push_back(param(p));

    // first occurrence of each single item, for duplicate errors
    std::map<std::string, SourceLoc> seen;
    auto once = [&](const std::string &what, SourceLoc at) {
      auto [it, fresh] = seen.emplace(what, at);
      if (fresh) return true;
      rep_.error(at, "duplicate '" + what + "' in neuron '" + n.name + "'");
      rep_.note(it->second, "the first '" + what + "' is here");
      return false;
    };

    for (auto *item : ctx->neuronItem()) {
      if (auto *s = dynamic_cast<G::StateItemContext *>(item)) {
        ast::StateDecl d;
        d.name = text(s->ID());
        d.loc = loc(s->ID());
        d.type = type(s->type());
        if (s->expr()) d.init = expr(s->expr());
        n.states.push_back(std::move(d));
      } else if (auto *in = dynamic_cast<G::InputItemContext *>(item)) {
        n.inputs.push_back({text(in->ID()), type(in->type()), loc(in->ID())});
      } else if (auto *l = dynamic_cast<G::LetItemContext *>(item)) {
        n.lets.push_back({text(l->ID()), expr(l->expr()), loc(l->ID())});
      } else if (auto *out = dynamic_cast<G::OutputItemContext *>(item)) {
        if (once("output", loc(out->OUTPUT()))) {
          n.output = expr(out->expr());
          n.output_loc = loc(out->OUTPUT());
        }
      } else if (auto *o = dynamic_cast<G::OdeItemContext *>(item)) {
        if (auto d = ode(o)) n.odes.push_back(std::move(*d));
      } else if (auto *u = dynamic_cast<G::UpdateItemContext *>(item)) {
        if (once("update", loc(u->UPDATE()))) {
          n.has_update = true;
          n.update = assigns(u->assignItem());
        }
      } else if (auto *sp = dynamic_cast<G::SpikeItemContext *>(item)) {
        if (once("spike when", loc(sp->SPIKE()))) {
          n.spike = expr(sp->expr());
          n.spike_loc = loc(sp->SPIKE());
          if (auto *sg = sp->surrogate()) {
            ast::SurrogateRef r;
            r.name = text(sg->ID());
            r.loc = loc(sg->ID());
            r.args = args(sg->argList(), false);
            n.surrogate = std::move(r);
          }
        }
      } else if (auto *r = dynamic_cast<G::ResetItemContext *>(item)) {
        if (once("reset", loc(r->RESET()))) n.reset = assigns(r->assignItem());
      } else if (auto *rf = dynamic_cast<G::RefractoryItemContext *>(item)) {
        if (once("refractory", loc(rf->REFRACTORY()))) {
          n.refractory = expr(rf->expr());
          n.refractory_loc = loc(rf->REFRACTORY());
        }
      } else if (auto *m = dynamic_cast<G::MethodItemContext *>(item)) {
        if (once("method", loc(m->METHOD()))) {
          n.method = text(m->ID());
          n.method_loc = loc(m->ID());
        }
      }
    }
    return n;
  }

  // ---- synapses ----

  ast::SynapseDef synapse(G::SynapseDefContext *ctx) {
    ast::SynapseDef n;
    auto ids = ctx->ID();
    if (ids.size() < 2) return n;
    if (ids[0]->getText() != "synapse")
      rep_.error(loc(ids[0]), "unknown definition " + quote(ids[0]->getText()) +
                                  "; a file holds neuron, synapse, network, simulation and "
                                  "experiment definitions" +
                                  did_you_mean(ids[0]->getText(), {"neuron", "synapse", "network",
                                                                   "simulation", "experiment"}));
    n.name = ids[1]->getText();
    n.loc = loc(ids[1]);
    if (auto *pl = ctx->paramList())
      for (auto *p : pl->param()) n.params.push_back(param(p));
    for (auto *item : ctx->synapseItem()) {
      if (auto *s = dynamic_cast<G::SynStateItemContext *>(item)) {
        ast::StateDecl d;
        d.name = text(s->ID());
        d.loc = loc(s->ID());
        d.type = type(s->type());
        if (s->expr()) d.init = expr(s->expr());
        n.states.push_back(std::move(d));
      } else if (auto *t = dynamic_cast<G::SynTraceItemContext *>(item)) {
        auto ids = t->ID();
        if (ids.size() < 2) continue;
        const std::string side = ids[0]->getText();
        if (side != "pre" && side != "post") {
          rep_.error(loc(ids[0]), "expected 'state', 'pre' or 'post' before '" + ids[1]->getText() +
                                      "' in synapse '" + n.name + "', found " + quote(side));
          continue;
        }
        ast::TraceDecl d;
        d.side = side == "pre" ? ast::TraceDecl::Pre : ast::TraceDecl::Post;
        d.name = ids[1]->getText();
        d.loc = loc(ids[1]);
        d.type = type(t->type());
        if (t->expr()) d.init = expr(t->expr());
        n.traces.push_back(std::move(d));
      } else if (auto *l = dynamic_cast<G::SynLetItemContext *>(item)) {
        n.lets.push_back({text(l->ID()), expr(l->expr()), loc(l->ID())});
      } else if (auto *e = dynamic_cast<G::SynEventItemContext *>(item)) {
        const std::string what = text(e->ID());
        SourceLoc at = loc(e->ID());
        bool pre = what == "on_pre";
        if (!pre && what != "on_post") {
          rep_.error(at, "expected 'on_pre { ... }' or 'on_post { ... }' in synapse '" + n.name +
                             "', found " + quote(what));
          continue;
        }
        bool &has = pre ? n.has_on_pre : n.has_on_post;
        if (has) {
          rep_.error(at, "duplicate '" + what + "' in synapse '" + n.name + "'");
          rep_.note(pre ? n.on_pre_loc : n.on_post_loc, "the first '" + what + "' is here");
          continue;
        }
        has = true;
        (pre ? n.on_pre_loc : n.on_post_loc) = at;
        (pre ? n.on_pre : n.on_post) = assigns(e->assignItem());
      } else if (auto *o = dynamic_cast<G::SynOdeItemContext *>(item)) {
        if (auto d = ode(o->ID(), o->expr())) n.odes.push_back(std::move(*d));
      }
    }
    return n;
  }

  ast::ParamDecl param(G::ParamContext *p) {
    ast::ParamDecl d;
    d.name = text(p->ID());
    d.loc = loc(p->ID());
    d.type = type(p->type());
    if (p->expr()) d.default_value = expr(p->expr());
    return d;
  }

  ast::TypeRef type(G::TypeContext *t) {
    if (!t) return {};
    for (auto *a : t->unitAtom()) {
      auto nums = a->NUMBER();
      size_t first_num = 0;
      if (!a->ID() && !nums.empty()) {  // a number standing for a unit: only `1`
        if (nums[0]->getText() != "1")
          rep_.error(loc(nums[0]), "a unit cannot be the number " + quote(nums[0]->getText()) +
                                       " (only '1' is allowed, as in '1/ms')");
        first_num = 1;
      }
      for (size_t i = first_num; i < nums.size(); ++i)
        if (!all_digits(nums[i]->getText()))
          rep_.error(loc(nums[i]),
                     "a unit exponent must be an integer, not " + quote(nums[i]->getText()));
    }
    return {t->getText(), loc(t)};
  }

  std::optional<ast::OdeDecl> ode(G::OdeItemContext *o) { return ode(o->ID(), o->expr()); }

  std::optional<ast::OdeDecl> ode(const std::vector<TerminalNode *> &ids, G::ExprContext *rhs) {
    if (ids.empty()) return std::nullopt;
    std::string lhs = ids[0]->getText();
    if (ids.size() < 2) {
      rep_.error(loc(ids[0]), "expected 'dX/dt = ...' (an ODE), found '" + lhs +
                                  " ='; assignments belong in 'update { }' or 'reset { }'");
      return std::nullopt;
    }
    std::string den = ids[1]->getText();
    if (lhs.size() < 2 || lhs[0] != 'd') {
      rep_.error(loc(ids[0]), "expected 'dX/dt = ...' (an ODE), found '" + lhs + "/" + den + "'");
      return std::nullopt;
    }
    if (den != "dt") {
      rep_.error(loc(ids[1]), "expected 'dX/dt = ...' (an ODE), found '" + lhs + "/" + den +
                                  "'; derivatives are taken with respect to time 'dt'");
      return std::nullopt;
    }
    return ast::OdeDecl{lhs.substr(1), expr(rhs), loc(ids[0])};
  }

  std::vector<ast::Assign> assigns(const std::vector<G::AssignItemContext *> &items) {
    std::vector<ast::Assign> out;
    for (auto *item : items) {
      auto *a = item->assign();
      if (!a) continue;  // ';'
      ast::Assign s;
      s.target = text(a->ID());
      s.loc = loc(a->ID());
      std::string op = a->op ? a->op->getText() : "=";
      s.op = op == "+=" ? '+' : op == "-=" ? '-' : '=';
      s.value = expr(a->expr());
      out.push_back(std::move(s));
    }
    return out;
  }

  // ---- networks ----

  ast::NetworkDef network(G::NetworkDefContext *ctx) {
    ast::NetworkDef net;
    net.name = text(ctx->ID());
    net.loc = loc(ctx->ID());
    if (auto *pl = ctx->netParamList())
      for (auto *p : pl->netParam()) net.params.push_back(net_param(p, net.name));
    for (auto *item : ctx->networkItem()) {
      if (auto *p = dynamic_cast<G::PopulationItemContext *>(item)) {
        auto ids = p->ID();
        if (ids.size() < 2) continue;
        ast::PopulationDecl d;
        d.name = ids[0]->getText();
        d.loc = loc(ids[0]);
        d.size = expr(p->expr());
        d.neuron = ids[1]->getText();
        d.neuron_loc = loc(ids[1]);
        d.args = args(p->argList(), false);
        net.populations.push_back(std::move(d));
      } else if (auto *s = dynamic_cast<G::SourceItemContext *>(item)) {
        auto ids = s->ID();
        if (ids.size() < 2) continue;
        ast::SourceDecl d;
        d.name = ids[0]->getText();
        d.loc = loc(ids[0]);
        d.kind = ids[1]->getText();
        d.kind_loc = loc(ids[1]);
        d.args = args(s->argList(), false);
        net.sources.push_back(std::move(d));
      } else if (auto *c = dynamic_cast<G::ConnectItemContext *>(item)) {
        auto lists = c->groupList();
        if (lists.size() < 2) continue;
        ast::ConnectDecl d;
        d.loc = loc(c->CONNECT());
        d.pre = groups(lists[0]);
        d.post = groups(lists[1]);
        d.args = args(c->argList(), true);
        if (auto *use = c->synapseUse()) {
          d.synapse = text(use->ID());
          d.synapse_loc = loc(use->ID());
          d.synapse_args = args(use->argList(), false);
        }
        net.connections.push_back(std::move(d));
      } else if (auto *in = dynamic_cast<G::TensorInputItemContext *>(item)) {
        net.inputs.push_back(tensor_input(in));
      } else if (auto *l = dynamic_cast<G::LayerItemContext *>(item)) {
        ast::LayerDecl d;
        d.name = text(l->ID());
        d.loc = loc(l->ID());
        d.output = l->OUTPUT() != nullptr;
        // the source is parsed as an expression for a clear error when it is not a name
        ir::ExprPtr source = expr(l->expr());
        d.source_loc = loc(l->expr());
        if (source->kind == ir::ExprKind::Var)
          d.source = source->name;
        else
          rep_.error(d.source_loc, "the source of layer '" + d.name +
                                       "' must be a name (an input or an earlier layer), not " +
                                       quote(source_text(l->expr())));
        for (auto *st : l->stage()) {
          ast::LayerStage stage;
          stage.name = text(st->ID());
          stage.loc = loc(st->ID());
          stage.has_parens = st->children.size() > 1;
          stage.args = value_args(st->callArgList(), 1);
          d.stages.push_back(std::move(stage));
        }
        net.layers.push_back(std::move(d));
      }
    }
    return net;
  }

  /// `cell: neuron = Leaky`. The default must fit in an expression: a name, or a call
  /// with positional arguments only.
  ast::ParamDecl net_param(G::NetParamContext *p, const std::string &net) {
    ast::ParamDecl d;
    d.name = text(p->ID());
    d.loc = loc(p->ID());
    if (auto *t = p->netParamType()) {
      if (t->type())
        d.type = type(t->type());
      else
        d.type = {t->getText(), loc(t)};
    }
    if (auto *v = p->value()) {
      ast::Value value = this->value(v, 1);
      d.default_value = value_expr(value, [&] {
        std::string example = source_text(v);
        return "give neuron arguments where the network is used, e.g. model = " + net + "(" +
               d.name + " = " + example + ")";
      });
    }
    return d;
  }

  /// A value as an expression (network parameter defaults): null after an error.
  template <typename Hint>
  ir::ExprPtr value_expr(const ast::Value &v, const Hint &hint) {
    switch (v.kind) {
      case ast::Value::Expr:
        return v.expr;
      case ast::Value::String:
        rep_.error(v.loc, "the default of a network parameter must be a neuron name, not a string");
        return nullptr;
      case ast::Value::Call:
        break;
    }
    std::vector<ir::ExprPtr> argv;
    for (const auto &a : v.args) {
      if (!a.name.empty()) {
        rep_.error(a.loc,
                   "named arguments are not allowed in the default of a network "
                   "parameter; " +
                       hint());
        return nullptr;
      }
      ir::ExprPtr e = value_expr(a.value, hint);
      if (!e) return nullptr;
      argv.push_back(std::move(e));
    }
    return ir::call(v.text, std::move(argv), v.loc);
  }

  /// The source text of a rule, as written (its tokens run together where it spans
  /// several lines or is long).
  static std::string source_text(ParserRuleContext *ctx) {
    Token *a = ctx->getStart(), *b = ctx->getStop();
    if (!a || !b || !a->getInputStream() || b->getStopIndex() < a->getStartIndex())
      return ctx->getText();
    std::string s =
        a->getInputStream()->getText(antlr4::misc::Interval(a->getStartIndex(), b->getStopIndex()));
    if (s.find('\n') != std::string::npos || s.size() > 200) return ctx->getText();
    return s;
  }

  /// `input x: [1, 28, 28]`: a shape of positive integers.
  ast::TensorInputDecl tensor_input(G::TensorInputItemContext *in) {
    ast::TensorInputDecl d;
    d.name = text(in->ID());
    d.loc = loc(in->ID());
    auto *list = in->exprList();
    if (!list) {
      rep_.error(loc(in->ID()), "the shape of input '" + d.name +
                                    "' is empty; give its dimensions, e.g. [1, 28, 28]");
      return d;
    }
    for (auto *e : list->expr()) {
      std::string t = e->getText();
      int64_t v = 0;
      if (all_digits(t)) {
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec != std::errc() || p != t.data() + t.size() || v > (int64_t(1) << 40)) {
          rep_.error(loc(e), "dimension " + quote(t) + " of input '" + d.name + "' is too large");
          continue;
        }
      }
      if (v < 1) {
        rep_.error(loc(e), "a dimension of input '" + d.name +
                               "' must be a positive integer, not " + quote(source_text(e)));
        continue;
      }
      d.shape.push_back(v);
    }
    return d;
  }

  std::vector<ast::GroupRef> groups(G::GroupListContext *ctx) {
    std::vector<ast::GroupRef> out;
    if (!ctx) return out;
    for (auto *g : ctx->groupRef()) {
      ast::GroupRef r;
      r.name = text(g->ID());
      r.loc = loc(g->ID());
      auto nums = g->NUMBER();
      if (!nums.empty()) {
        auto b = index(nums[0]);
        auto e =
            nums.size() > 1 ? index(nums[1]) : (b ? std::optional<int64_t>(*b + 1) : std::nullopt);
        if (b && e) {
          if (*e <= *b)
            rep_.error(loc(nums[0]), "empty slice [" + std::to_string(*b) + ":" +
                                         std::to_string(*e) + "] of '" + r.name +
                                         "' (the end must be greater than the start)");
          r.begin = b;
          r.end = e;
        }
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  std::optional<int64_t> index(TerminalNode *n) {
    std::string s = n->getText();
    int64_t v = 0;
    if (all_digits(s)) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && p == s.data() + s.size() && v < (int64_t(1) << 62)) return v;
      rep_.error(loc(n), "slice index " + quote(s) + " is too large");
      return std::nullopt;
    }
    rep_.error(loc(n), "a slice index must be a non-negative integer, not " + quote(s));
    return std::nullopt;
  }

  std::vector<ast::Arg> args(G::ArgListContext *ctx, bool flags) {
    std::vector<ast::Arg> out;
    if (!ctx) return out;
    for (auto *a : ctx->arg()) {
      if (auto *n = dynamic_cast<G::NamedArgContext *>(a)) {
        out.push_back({text(n->ID()), expr(n->expr()), loc(n->ID())});
      } else if (auto *p = dynamic_cast<G::PositionalArgContext *>(a)) {
        ir::ExprPtr v = expr(p->expr());
        if (flags && v && v->kind == ir::ExprKind::Var)
          out.push_back({v->name, nullptr, loc(p)});
        else
          out.push_back({"", v, loc(p)});
      }
    }
    return out;
  }

  // ---- simulations ----

  ast::SimulationDef simulation(G::SimulationDefContext *ctx) {
    ast::SimulationDef sim;
    sim.name = text(ctx->ID());
    sim.loc = loc(ctx->ID());
    for (auto *item : ctx->simItem()) {
      if (auto *s = dynamic_cast<G::SettingItemContext *>(item)) {
        TerminalNode *name = s->ID() ? s->ID() : s->NETWORK();
        sim.settings.push_back({text(name), expr(s->expr()), loc(name)});
      } else if (auto *r = dynamic_cast<G::RecordItemContext *>(item)) {
        sim.records.push_back({text(r->ID()), groups(r->groupList()), loc(r->ID())});
      } else if (auto *c = dynamic_cast<G::ProtocolItemContext *>(item)) {
        ast::Value v;
        v.kind = ast::Value::Call;
        v.text = text(c->ID());
        v.loc = loc(c->ID());
        v.has_parens = true;
        v.args = value_args(c->callArgList(), 1);
        sim.protocol.push_back({v.text, std::move(v), loc(c->ID())});
      }
    }
    return sim;
  }

  // ---- experiments and values ----

  ast::ExperimentDef experiment(G::ExperimentDefContext *ctx) {
    ast::ExperimentDef x;
    x.name = text(ctx->ID());
    x.loc = loc(ctx->ID());
    for (auto *item : ctx->experimentItem()) {
      if (auto *s = dynamic_cast<G::ExperimentSettingContext *>(item)) {
        x.settings.push_back({text(s->ID()), value(s->value(), 1), loc(s->ID())});
      } else if (auto *c = dynamic_cast<G::ExperimentCallContext *>(item)) {
        ast::Value v;
        v.kind = ast::Value::Call;
        v.text = text(c->ID());
        v.loc = loc(c->ID());
        v.has_parens = true;
        v.args = value_args(c->callArgList(), 1);
        x.settings.push_back({v.text, std::move(v), loc(c->ID())});
      }
    }
    return x;
  }

  /// A value: a string, a call that is the whole value (`adam(lr = 2e-3)`: named
  /// arguments and strings allowed, nested calls are call values too) or an expression.
  /// Values nest only through call arguments; `depth` counts the calls.
  ast::Value value(G::ValueContext *ctx, int depth) {
    ast::Value v;
    v.loc = loc(ctx);
    if (depth > kMaxExprDepth) {
      rep_.error(v.loc, "value is too deeply nested (more than " + std::to_string(kMaxExprDepth) +
                            " levels of calls)");
      throw AbortParse{};
    }
    if (auto *s = dynamic_cast<G::StringValueContext *>(ctx)) {
      v.kind = ast::Value::String;
      v.text = unescape(s->STRING()->getText());
      return v;
    }
    auto *e = dynamic_cast<G::ExprValueContext *>(ctx);
    ParserRuleContext *top = e ? e->expr() : nullptr;
    while (top && top->children.size() == 1) {  // the wrappers of the precedence levels
      auto *inner = dynamic_cast<ParserRuleContext *>(top->children[0]);
      if (!inner) break;
      top = inner;
    }
    if (auto *c = dynamic_cast<G::CallAtomContext *>(top)) {
      v.kind = ast::Value::Call;
      v.text = text(c->ID());
      v.has_parens = true;
      v.args = value_args(c->callArgList(), depth + 1);
    } else {
      v.kind = ast::Value::Expr;
      v.expr = e ? expr(e->expr()) : ir::num(0);
    }
    return v;
  }

  std::vector<ast::NamedValue> value_args(G::CallArgListContext *ctx, int depth) {
    std::vector<ast::NamedValue> out;
    if (!ctx) return out;
    for (auto *a : ctx->callArg()) {
      if (!a->value()) continue;
      if (a->ID())
        out.push_back({text(a->ID()), value(a->value(), depth), loc(a->ID())});
      else
        out.push_back({"", value(a->value(), depth), loc(a)});
    }
    return out;
  }

  // ---- expressions ----

  static bool all_digits(const std::string &s) {
    if (s.empty()) return false;
    for (char c : s)
      if (c < '0' || c > '9') return false;
    return true;
  }

  /// Length of the numeric prefix of a NUMBER/QUANTITY token (digits, fraction, exponent).
  static size_t number_prefix(const std::string &s) {
    size_t i = 0;
    auto digits = [&] {
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    };
    digits();
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      size_t j = i + 1;
      if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
      if (j < s.size() && s[j] >= '0' && s[j] <= '9') {
        i = j;
        digits();
      }
    }
    return i;
  }

  ir::ExprPtr literal(TerminalNode *n, bool with_unit) {
    std::string s = n->getText();
    size_t len = number_prefix(s);
    std::string digits = s.substr(0, len);
    double v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || p != digits.data() + digits.size()) {
      rep_.error(loc(n), "number " + quote(s) + " is out of range");
      v = 0;
    }
    if (with_unit) return ir::quantity(v, s.substr(len), loc(n));
    return ir::num(v, loc(n));
  }

  ir::ExprPtr expr(G::ExprContext *ctx) {
    if (!ctx) return ir::num(0);
    return build(ctx).e;
  }

  Built checked(ir::ExprPtr e, int depth) {
    if (depth > kMaxExprDepth) {
      rep_.error(e->loc, "expression is too deeply nested (more than " +
                             std::to_string(kMaxExprDepth) + " levels); split it with 'let'");
      throw AbortParse{};
    }
    return {std::move(e), depth};
  }

  static ir::Op binary_op(const std::string &op) {
    static const std::map<std::string, ir::Op> ops = {
        {"+", ir::Op::Add}, {"-", ir::Op::Sub}, {"*", ir::Op::Mul}, {"/", ir::Op::Div},
        {"^", ir::Op::Pow}, {"<", ir::Op::Lt},  {"<=", ir::Op::Le}, {">", ir::Op::Gt},
        {">=", ir::Op::Ge}, {"==", ir::Op::Eq}, {"!=", ir::Op::Ne}, {"&&", ir::Op::And},
        {"||", ir::Op::Or}};
    auto it = ops.find(op);
    return it == ops.end() ? ir::Op::Add : it->second;
  }

  /// Builds any expression rule. Recursion happens only where the tree branches; each
  /// kind has its own function so that a recursion step costs little stack.
  Built build(ParserRuleContext *ctx) {
    // Skip the wrappers of the precedence levels (one child that is itself a rule).
    while (ctx && ctx->children.size() == 1) {
      auto *inner = dynamic_cast<ParserRuleContext *>(ctx->children[0]);
      if (!inner) break;
      ctx = inner;
    }
    if (!ctx || ctx->children.empty()) return {ir::num(0), 1};
    if (auto *a = dynamic_cast<G::NumberAtomContext *>(ctx))
      return {literal(a->NUMBER(), false), 1};
    if (auto *a = dynamic_cast<G::QuantityAtomContext *>(ctx))
      return {literal(a->QUANTITY(), true), 1};
    if (auto *a = dynamic_cast<G::NameAtomContext *>(ctx))
      return {ir::var(text(a->ID()), loc(a->ID())), 1};
    if (auto *a = dynamic_cast<G::ParenAtomContext *>(ctx)) return build(a->expr());
    if (auto *a = dynamic_cast<G::CallAtomContext *>(ctx)) return build_call(a);
    if (auto *u = dynamic_cast<G::UnaryExprContext *>(ctx)) return build_unary(u);
    if (auto *p = dynamic_cast<G::PowExprContext *>(ctx)) return build_pow(p);
    if (auto *e = dynamic_cast<G::ExprContext *>(ctx)) return build_select(e);
    return build_binary(ctx);
  }

  __attribute__((noinline)) Built build_call(G::CallAtomContext *a) {
    std::vector<ir::ExprPtr> argv;
    int depth = 1;
    if (auto *list = a->callArgList())
      for (auto *arg : list->callArg()) {
        // named arguments and strings belong to values (a call that is a whole setting)
        if (arg->ID()) {
          rep_.error(loc(arg->ID()), "named argument '" + text(arg->ID()) + "' in a call to '" +
                                         text(a->ID()) +
                                         "' inside an expression; functions in expressions "
                                         "take positional arguments only");
          continue;
        }
        auto *v = dynamic_cast<G::ExprValueContext *>(arg->value());
        if (!v) {
          if (arg->value()) rep_.error(loc(arg->value()), kStringsOnlyInValues);
          continue;
        }
        Built b = build(v->expr());
        depth = std::max(depth, b.depth + 1);
        argv.push_back(std::move(b.e));
      }
    return checked(ir::call(text(a->ID()), std::move(argv), loc(a->ID())), depth);
  }

  /// `- - !x`: the chain of prefix operators is walked without recursion.
  __attribute__((noinline)) Built build_unary(G::UnaryExprContext *u) {
    std::vector<TerminalNode *> ops;
    while (u && u->unaryExpr()) {
      if (auto *op = dynamic_cast<TerminalNode *>(u->children[0])) ops.push_back(op);
      u = u->unaryExpr();
    }
    Built acc = u ? build(u) : Built{ir::num(0), 1};
    for (size_t i = ops.size(); i-- > 0;) {
      SourceLoc at = loc(ops[i]);
      bool neg = ops[i]->getText() == "-";
      if (neg && acc.e->kind == ir::ExprKind::Number) {  // -60mV is a literal
        acc.e = acc.e->unit.empty() ? ir::num(-acc.e->value, at)
                                    : ir::quantity(-acc.e->value, acc.e->unit, at);
        continue;
      }
      acc =
          checked(ir::unary(neg ? ir::Op::Neg : ir::Op::Not, std::move(acc.e), at), acc.depth + 1);
    }
    return acc;
  }

  __attribute__((noinline)) Built build_pow(G::PowExprContext *p) {
    Built base = build(p->atom());
    if (!p->unaryExpr()) return base;
    Built exp = build(p->unaryExpr());
    auto *op = dynamic_cast<TerminalNode *>(p->children.size() > 1 ? p->children[1] : nullptr);
    return checked(ir::binary(ir::Op::Pow, std::move(base.e), std::move(exp.e), loc(op)),
                   std::max(base.depth, exp.depth) + 1);
  }

  __attribute__((noinline)) Built build_select(G::ExprContext *e) {
    auto parts = e->expr();
    Built c = build(e->orExpr());
    if (parts.size() < 2) return c;
    Built a = build(parts[0]);
    Built b = build(parts[1]);
    auto *q = dynamic_cast<TerminalNode *>(e->children.size() > 1 ? e->children[1] : nullptr);
    int depth = std::max({c.depth, a.depth, b.depth}) + 1;
    return checked(ir::select(std::move(c.e), std::move(a.e), std::move(b.e), loc(q)), depth);
  }

  /// A binary level: operand (op operand)*, associated to the left.
  __attribute__((noinline)) Built build_binary(ParserRuleContext *ctx) {
    bool comparison =
        dynamic_cast<G::RelExprContext *>(ctx) || dynamic_cast<G::EqExprContext *>(ctx);
    Built acc = build(dynamic_cast<ParserRuleContext *>(ctx->children[0]));
    for (size_t i = 1; i + 1 < ctx->children.size(); i += 2) {
      auto *op = dynamic_cast<TerminalNode *>(ctx->children[i]);
      auto *rhs_ctx = dynamic_cast<ParserRuleContext *>(ctx->children[i + 1]);
      if (!op || !rhs_ctx) break;
      if (comparison && i > 1)
        rep_.error(loc(op),
                   "comparisons cannot be chained; write 'a < b && b < c' instead of 'a < b < c'");
      Built rhs = build(rhs_ctx);
      int depth = std::max(acc.depth, rhs.depth) + 1;
      acc = checked(
          ir::binary(binary_op(op->getText()), std::move(acc.e), std::move(rhs.e), loc(op)), depth);
    }
    return acc;
  }
};

std::optional<ast::File> parse(const SourceBuffer &buffer, Reporter &rep) {
  if (buffer.text().size() > kMaxInputBytes) {
    char size[32];
    std::snprintf(size, sizeof size, "%.1f", static_cast<double>(buffer.text().size()) / (1 << 20));
    rep.error({}, std::string("the file is too large to parse (") + size + " MiB; the limit is " +
                      std::to_string(kMaxInputBytes >> 20) + " MiB)");
    return std::nullopt;
  }
  if (!check_utf8(buffer, rep)) return std::nullopt;

  antlr4::ANTLRInputStream input(buffer.text());
  SnnLexer lexer(&input);
  ErrorListener listener(rep);
  lexer.removeErrorListeners();
  lexer.addErrorListener(&listener);
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();

  // Lexical errors: invalid characters and unterminated comments (on the hidden channel,
  // the parser never sees them) and malformed strings (the parser takes them as strings).
  bool after_bad_string = false;
  for (Token *t : tokens.getTokens()) {
    if (after_bad_string && t->getChannel() == Token::DEFAULT_CHANNEL) {
      rep.after_bad_string.insert(t->getTokenIndex());
      after_bad_string = false;
    }
    if (t->getType() == G::INVALID_CHAR) {
      rep.error(rep.loc(t), "invalid character " + describe_char(t->getText()));
    } else if (t->getType() == G::STRING) {
      after_bad_string = !check_string(t, rep);
    } else if (t->getType() == G::BLOCK_COMMENT) {
      std::string s = t->getText();
      if (s.size() < 4 || s.compare(s.size() - 2, 2, "*/") != 0) {
        rep.error(rep.loc(t), "unterminated comment (a '/*' without its '*/')");
        rep.quiet_at_eof = true;
      }
    }
  }

  G parser(&tokens);
  parser.removeErrorListeners();
  parser.addErrorListener(&listener);
  parser.setErrorHandler(std::make_shared<ErrorStrategy>(rep));
  DepthGuard guard(rep, parser);
  parser.addParseListener(&guard);
  G::FileContext *tree = parser.file();
  parser.removeParseListeners();

  if (rep.errors() > 0 || !tree) return std::nullopt;
  ast::File file = Builder(rep).file(tree);
  if (rep.errors() > 0) return std::nullopt;
  return file;
}

}  // namespace

std::optional<ast::File> parse_file(const SourceBuffer &buffer, DiagnosticEngine &diags) {
  Reporter rep(buffer, diags);
  std::optional<ast::File> file;
  try {
    file = parse(buffer, rep);
  } catch (const AbortParse &) {
    file.reset();
  } catch (const std::exception &e) {
    rep.error({}, std::string("internal error in the parser: ") + e.what());
    file.reset();
  } catch (...) {
    rep.error({}, "internal error in the parser");
    file.reset();
  }
  bool failed = rep.errors() > 0;
  rep.flush();
  if (failed) return std::nullopt;
  return file;
}

}  // namespace snnc::frontend
