// ModelParser.cpp — recursive-descent parser for the textual model IR (its tokens,
// expressions and statement blocks: TextParser).
//
// Layers name their input, fused pool and computing conv by layer name; the names are
// resolved once the whole model is read, so a layer may name a later one (the verifier
// then says what is wrong with that) and every unknown name is reported.
#include "ModelParser.h"

#include <cstdlib>
#include <map>

#include "TextParser.h"
#include "passes/PlanSynapses.h"

namespace snnc::ir {
namespace {

/// One argument of a layer: `value` (positional) or `key = value`.
struct Arg {
  std::string key;  ///< "" for a positional argument
  Token key_token, value;
  bool is_name = false;  ///< a (dotted) name rather than a number
  std::string text;      ///< the name, or the number as written
};

/// Names a layer refers to, resolved after the model is read.
struct LayerRefs {
  Token input, neuron, fused_pool, computed_by;  ///< kind End: absent
  std::string input_name, neuron_name, fused_pool_name, computed_by_name;
};

class ModelParser : TextParser {
 public:
  ModelParser(const SourceBuffer &buf, DiagnosticEngine &diags) : TextParser(buf, diags) {}

  std::optional<std::vector<Model>> run() {
    try {
      std::vector<Model> models;
      do models.push_back(model());
      while (peek().kind != Token::End);
      if (diags_.has_errors()) return std::nullopt;
      return models;
    } catch (const ParseError &) {
      return std::nullopt;
    }
  }

 private:
  std::vector<LayerRefs> refs_;  ///< per layer of the model being read
  Token output_;
  std::string output_name_;

  /// `a`, `c1.conv2d`: identifiers joined by dots.
  std::string name(const char *what) {
    std::string n = ident(what);
    while (at(".") && peek(1).kind == Token::Ident) {
      next();
      n += "." + next().text;
    }
    return n;
  }

  Arg argument() {
    Arg a;
    if (peek().kind == Token::Ident && peek(1).text == "=") {
      a.key_token = next();
      a.key = a.key_token.text;
      next();
    }
    a.value = peek();
    if (peek().kind == Token::Ident) {
      a.is_name = true;
      a.text = name("a value");
    } else if (peek().kind == Token::Number || (at("-") && peek(1).kind == Token::Number)) {
      a.text = accept("-") ? "-" : "";
      a.text += next().text;
    } else {
      fail(peek(), "expected a layer name or a number, found " + describe(peek()));
    }
    return a;
  }

  int64_t as_integer(const Arg &a, const std::string &what) {
    char *end = nullptr;
    long long v = std::strtoll(a.text.c_str(), &end, 10);
    if (a.is_name || a.text.empty() || *end != '\0')
      fail(a.value, "expected an integer " + what + ", found '" + a.text + "'");
    return v;
  }

  double as_number(const Arg &a, const std::string &what) {
    char *end = nullptr;
    double v = std::strtod(a.text.c_str(), &end);
    if (a.is_name || a.text.empty() || *end != '\0')
      fail(a.value, "expected a number for " + what + ", found '" + a.text + "'");
    return v;
  }

  const Token &as_name(const Arg &a, const std::string &what) {
    if (!a.is_name) fail(a.value, "expected " + what + ", found '" + a.text + "'");
    return a.value;
  }

  /// The positional arguments a layer kind takes after its input.
  static std::vector<const char *> positionals(Layer::Kind k) {
    switch (k) {
      case Layer::Linear:
        return {"the number of outputs"};
      case Layer::Conv2d:
        return {"the number of channels"};
      case Layer::CellOp:
        return {"a neuron name"};
      default:
        return {};
    }
  }

  static std::vector<std::string> attributes(Layer::Kind k) {
    switch (k) {
      case Layer::Linear:
        return {"sparsity", "compressed", "synapse", "event_threshold"};
      case Layer::Conv2d:
        return {"kernel", "stride", "padding", "synapse", "event_threshold", "fused_pool"};
      case Layer::MaxPool:
        return {"kernel", "stride", "padding", "computed_by"};
      case Layer::AvgPool:
        return {"kernel", "stride", "padding"};
      case Layer::Dropout:
        return {"p"};
      default:
        return {};
    }
  }

  void layer(Model &m) {
    Layer l;
    l.loc = peek().loc;
    Token name_token = peek();
    l.name = name("a layer name");
    expect("=");
    Token kind_token = peek();
    std::string kind = ident("a layer kind");
    if (!layer_kind_from_name(kind, &l.kind)) {
      std::vector<std::string> kinds;
      for (auto k : {Layer::Input, Layer::Linear, Layer::Conv2d, Layer::MaxPool, Layer::AvgPool,
                     Layer::Flatten, Layer::Dropout, Layer::CellOp})
        kinds.push_back(layer_kind_name(k));
      fail(kind_token, "unknown layer kind '" + kind + "'" + did_you_mean(kind, kinds));
    }
    expect("(");
    std::vector<Arg> args;
    if (!at(")")) {
      do args.push_back(argument());
      while (accept(","));
    }
    expect(")");
    LayerRefs refs;
    std::vector<const char *> wanted = positionals(l.kind);
    if (l.kind != Layer::Input) wanted.insert(wanted.begin(), "the input layer");
    size_t positional = 0;
    std::map<std::string, const Arg *> named;
    const std::vector<std::string> allowed = attributes(l.kind);
    for (const auto &a : args) {
      if (a.key.empty()) {
        if (!named.empty()) fail(a.value, "positional argument after a named one");
        if (positional >= wanted.size())
          fail(a.value, "too many arguments for " + kind + " (it takes " +
                            std::to_string(wanted.size()) + " before its named ones)");
        const std::string what = wanted[positional++];
        if (what == "the input layer") {
          refs.input = as_name(a, what);
          refs.input_name = a.text;
        } else if (l.kind == Layer::Linear) {
          l.out_features = as_integer(a, "number of outputs");
        } else if (l.kind == Layer::Conv2d) {
          l.channels = as_integer(a, "number of channels");
        } else {
          refs.neuron = as_name(a, what);
          refs.neuron_name = a.text;
        }
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), a.key) == allowed.end())
        fail(a.key_token,
             kind + " has no attribute '" + a.key + "'" + did_you_mean(a.key, allowed));
      if (!named.emplace(a.key, &a).second) fail(a.key_token, "duplicate '" + a.key + "'");
    }
    if (positional < wanted.size())
      fail(previous(), kind + " needs " + wanted[positional] + " as argument " +
                           std::to_string(positional + 1));
    auto get = [&](const char *key) -> const Arg * {
      auto it = named.find(key);
      return it == named.end() ? nullptr : it->second;
    };
    if (l.kind == Layer::Conv2d || l.kind == Layer::MaxPool || l.kind == Layer::AvgPool) {
      const Arg *k = get("kernel");
      if (!k) fail(previous(), kind + " needs 'kernel = N'");
      l.kernel = as_integer(*k, "kernel");
      const Arg *s = get("stride");
      l.stride = s ? as_integer(*s, "stride") : l.kind == Layer::Conv2d ? 1 : l.kernel;
      const Arg *p = get("padding");
      l.padding = p ? as_integer(*p, "padding") : 0;
    }
    if (const Arg *p = get("p")) l.rate = as_number(*p, "p");
    if (l.kind == Layer::Dropout && !get("p")) fail(previous(), "dropout needs 'p = RATE'");
    if (const Arg *s = get("sparsity")) l.sparsity = as_number(*s, "sparsity");
    if (const Arg *c = get("compressed")) {
      if (!c->is_name || (c->text != "true" && c->text != "false"))
        fail(c->value, "expected true or false for compressed, found '" + c->text + "'");
      l.compressed = c->text == "true";
    }
    if (const Arg *s = get("synapse"))
      if (!s->is_name || !synapse_from_name(s->text, &l.synapse))
        fail(s->value, "expected auto, dense or event for synapse, found '" + s->text + "'" +
                           did_you_mean(s->text, {"auto", "dense", "event"}));
    if (const Arg *t = get("event_threshold")) l.event_threshold = as_number(*t, "event_threshold");
    if (const Arg *f = get("fused_pool")) {
      refs.fused_pool = as_name(*f, "a layer name");
      refs.fused_pool_name = f->text;
    }
    if (const Arg *c = get("computed_by")) {
      refs.computed_by = as_name(*c, "a layer name");
      refs.computed_by_name = c->text;
    }
    expect(":");
    expect("[");
    do l.shape.push_back(integer("a dimension"));
    while (accept(","));
    expect("]");
    if (l.kind == Layer::MaxPool || l.kind == Layer::AvgPool) l.channels = l.shape[0];
    for (const auto &other : m.layers)
      if (other.name == l.name) fail(name_token, "duplicate layer '" + l.name + "'");
    m.layers.push_back(std::move(l));
    refs_.push_back(std::move(refs));
  }

  Param constant_param() {
    Param p;
    p.loc = peek().loc;
    p.name = ident("a name");
    p.dim = Dim::none();
    expect("=");
    p.value = expr();
    return p;
  }

  void cell(Model &m) {
    Cell c;
    Token name_token = peek();
    c.name = name("a cell name");
    expect(":");
    c.neuron = ident("a neuron name");
    expect("{");
    std::vector<std::pair<Token, ExprPtr>> next_lines;
    bool has_backward = false;
    while (!at("}")) {
      Token kw = peek();
      std::string k = ident("a cell item");
      if (k == "param") {
        c.params.push_back(constant_param());
      } else if (k == "state") {
        Param p = constant_param();
        c.states.push_back({p.name, Dim::none(), p.value, p.loc});
      } else if (k == "output") {
        c.output = expr();
      } else if (k == "step") {
        c.step = block();
      } else if (k == "spike") {
        c.threshold = expr();
        if (ident("'surrogate'") != "surrogate") fail(previous(), "expected 'surrogate'");
        c.surrogate = ident("a surrogate name");
        expect("(");
        if (!at(")")) {
          do c.surrogate_params.push_back(constant_param());
          while (accept(","));
        }
        expect(")");
        c.detach_reset = accept("detach_reset");
      } else if (k == "next") {
        Token state = peek();
        ident("a state name");
        expect("=");
        next_lines.push_back({state, expr()});
      } else if (k == "surrogate_input") {
        c.h = expr();
      } else if (k == "backward") {
        c.backward = block();
        has_backward = true;
      } else {
        fail(kw, "unknown cell item '" + k + "'" +
                     did_you_mean(k, {"param", "state", "output", "step", "spike", "next",
                                      "surrogate_input", "backward"}));
      }
    }
    expect("}");
    // `next` lines name their state; Cell::next is in state order
    if (!next_lines.empty()) c.next.assign(c.states.size(), nullptr);
    for (const auto &[state, value] : next_lines) {
      size_t j = 0;
      while (j < c.states.size() && c.states[j].name != state.text) ++j;
      if (j == c.states.size())
        fail(state,
             "'next' of '" + state.text + "', which is not a state of cell '" + c.name + "'");
      if (c.next[j]) fail(state, "two 'next' lines for state '" + state.text + "'");
      c.next[j] = value;
    }
    c.differentiated = has_backward || !next_lines.empty() || c.h;
    for (const auto &other : m.cells)
      if (other.name == c.name) fail(name_token, "duplicate cell '" + c.name + "'");
    m.cells.push_back(std::move(c));
  }

  int resolve(const Model &m, const Token &at, const std::string &name) {
    std::vector<std::string> names;
    for (size_t i = 0; i < m.layers.size(); ++i) {
      if (m.layers[i].name == name) return static_cast<int>(i);
      names.push_back(m.layers[i].name);
    }
    diags_.error(at.loc, "unknown layer '" + name + "'" + did_you_mean(name, names));
    return -1;
  }

  /// Layer names to indices; cell layers to the cell block of their name.
  void link(Model &m) {
    for (size_t i = 0; i < m.layers.size(); ++i) {
      Layer &l = m.layers[i];
      const LayerRefs &r = refs_[i];
      if (r.input.kind != Token::End) l.input = resolve(m, r.input, r.input_name);
      if (r.fused_pool.kind != Token::End)
        l.fused_pool = resolve(m, r.fused_pool, r.fused_pool_name);
      if (l.kind == Layer::CellOp) {
        for (size_t c = 0; c < m.cells.size(); ++c)
          if (m.cells[c].name == l.name) l.cell = static_cast<int>(c);
        if (l.cell < 0)
          diags_.error(l.loc, "cell layer '" + l.name + "' has no 'cell " + l.name + "' block");
        else if (m.cells[l.cell].neuron != r.neuron_name)
          diags_.error(r.neuron.loc, "cell layer '" + l.name + "' names neuron '" + r.neuron_name +
                                         "', but its cell is a '" + m.cells[l.cell].neuron + "'");
      }
    }
    // computed_by = C on a pool repeats fused_pool = P on its conv: both or neither
    for (size_t i = 0; i < m.layers.size(); ++i) {
      const LayerRefs &r = refs_[i];
      int by =
          r.computed_by.kind == Token::End ? -1 : resolve(m, r.computed_by, r.computed_by_name);
      if (by >= 0 && m.layers[by].fused_pool != static_cast<int>(i))
        diags_.error(r.computed_by.loc, "layer '" + m.layers[i].name + "' says computed_by = " +
                                            m.layers[by].name + ", but '" + m.layers[by].name +
                                            "' has no fused_pool = " + m.layers[i].name);
      const int fp = m.layers[i].fused_pool;
      if (fp >= 0 && (refs_[fp].computed_by.kind == Token::End ||
                      refs_[fp].computed_by_name != m.layers[i].name))
        diags_.error(refs_[i].fused_pool.loc,
                     "layer '" + m.layers[fp].name + "' is the fused_pool of '" + m.layers[i].name +
                         "' but does not say computed_by = " + m.layers[i].name);
    }
    if (output_.kind != Token::End) m.output = resolve(m, output_, output_name_);
  }

  Model model() {
    Model m;
    refs_.clear();
    output_ = Token{};
    if (ident("'model'") != "model") fail(previous(), "expected 'model'");
    m.name = ident("a model name");
    expect("{");
    while (!at("}")) {
      Token kw = peek();
      std::string k = ident("a model item");
      if (k == "layer") {
        layer(m);
      } else if (k == "output") {
        if (output_.kind != Token::End) fail(kw, "a second 'output'");
        output_ = peek();
        output_name_ = name("a layer name");
      } else if (k == "cell") {
        cell(m);
      } else {
        fail(kw, "unknown model item '" + k + "'" + did_you_mean(k, {"layer", "output", "cell"}));
      }
    }
    expect("}");
    link(m);
    return m;
  }
};

}  // namespace

std::optional<std::vector<Model>> parse_models(const SourceBuffer &buffer,
                                               DiagnosticEngine &diags) {
  return ModelParser(buffer, diags).run();
}

bool is_model_text(const std::string &text) {
  const Token first = lex_ir(text).front();
  return first.kind == Token::Ident && first.text == "model";
}

}  // namespace snnc::ir
