// IRParser.cpp — recursive-descent parser for the textual simulation IR (its tokens,
// expressions and statement blocks: TextParser).
#include "IRParser.h"

#include "TextParser.h"

namespace snnc::ir {
namespace {

class IRParser : TextParser {
 public:
  IRParser(const SourceBuffer &buf, DiagnosticEngine &diags) : TextParser(buf, diags) {}

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
    else if (kind == "stimulus")
      s.kind = Source::Stimulus;
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
    if (accept(".")) c.target = ident("a target variable");
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
      } else if (t.text == "delay") {
        expect("=");
        c.delay = expr();
      } else if (t.text == "with") {
        c.synapse = synapse();
        break;
      } else if (t.text == "no_autapses")
        c.autapses = false;
      else if (t.text == "csr") {
        if (!event_driven) fail(t, "'csr' only on 'propagate'");
      } else
        fail(t, "unknown connection attribute '" + t.text + "'");
    }
    return c;
  }

  SynapseModel synapse() {
    SynapseModel sm;
    sm.loc = peek().loc;
    sm.name = ident("a synapse name");
    expect("{");
    while (!at("}")) {
      Token kw = peek();
      std::string k = ident("a synapse item");
      if (k == "param") {
        sm.params.push_back(param());
      } else if (k == "state" || k == "pre" || k == "post") {
        StateVar s;
        s.loc = peek().loc;
        s.name = ident("a variable name");
        expect(":");
        s.dim = dim();
        expect("=");
        s.init = expr();
        (k == "state" ? sm.states
         : k == "pre" ? sm.pre_traces
                      : sm.post_traces)
            .push_back(std::move(s));
      } else if (k == "decay") {
        TraceDecay d;
        d.loc = peek().loc;
        d.var = ident("a trace name");
        if (ident("'rate'") != "rate") fail(toks_[pos_ - 1], "expected 'rate'");
        d.rate = expr();
        sm.decays.push_back(std::move(d));
      } else if (k == "on_pre") {
        sm.on_pre = block();
      } else if (k == "on_post") {
        sm.on_post = block();
      } else {
        fail(kw, "unknown synapse item '" + k + "'");
      }
    }
    expect("}");
    return sm;
  }

  Protocol protocol() {
    Protocol p;
    p.loc = peek().loc;
    int line = p.loc.line;
    while (peek().kind == Token::Ident && peek().loc.line == line) {
      Token key = next();
      auto count = [&] { return integer(key.text.c_str()); };
      if (key.text == "present") {
        p.source = ident("a stimulus source");
      } else if (key.text == "data") {
        if (peek().kind != Token::String) fail(peek(), "expected a quoted path after 'data'");
        p.data = next().text;
      } else if (key.text == "count") {
        p.count = ident("a population");
      } else if (key.text == "repeat_below") {
        p.repeat_below = count();
      } else if (key.text == "learn") {
        p.learn_images = count();
      } else if (key.text == "normalise") {
        p.normalise = ident("a connection");
      } else if (key.text == "readout") {
        Token r = peek();
        std::string kind = ident("'vote' or 'linear'");
        if (kind != "vote" && kind != "linear") fail(r, "unknown readout '" + kind + "'");
        p.linear_readout = kind == "linear";
      } else if (key.text == "classify") {
        p.classify = ident("a population");
      } else if (key.text == "assign") {
        p.assign_images = count();
      } else if (key.text == "test") {
        p.test_images = count();
      } else {
        fail(key, "unknown protocol item '" + key.text + "'");
      }
    }
    return p;
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
      else if (k == "protocol")
        m.protocol = protocol();
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
