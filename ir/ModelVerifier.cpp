// ModelVerifier.cpp — structural invariants of the Model IR: layer order, shapes, indices,
// cell scopes and the shape of what autodiff derives.
#include "ModelVerifier.h"

#include <set>

#include "ExprUtils.h"
#include "passes/Autodiff.h"

namespace snnc::ir {
namespace {

std::string shape_text(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

class ModelVerifier {
 public:
  ModelVerifier(const Model &m, DiagnosticEngine &d) : m_(m), diags_(d) {}

  bool run() {
    const int before = diags_.error_count();
    if (m_.name.empty()) diags_.error({}, "model has no name");
    if (m_.layers.empty() || m_.layers[0].kind != Layer::Input)
      diags_.error(m_.layers.empty() ? SourceLoc{} : m_.layers[0].loc,
                   "model '" + m_.name + "' must start with its input layer");
    std::set<std::string> names;
    for (const auto &l : m_.layers)
      if (!names.insert(l.name).second) diags_.error(l.loc, "duplicate layer '" + l.name + "'");
    std::vector<int> consumers(m_.layers.size(), 0), users(m_.cells.size(), 0);
    for (const auto &l : m_.layers) {
      if (valid_layer(l.input)) ++consumers[l.input];
      if (l.kind == Layer::CellOp && l.cell >= 0 && l.cell < static_cast<int>(m_.cells.size()))
        ++users[l.cell];
    }
    for (size_t i = 0; i < m_.layers.size(); ++i) layer(static_cast<int>(i), consumers);
    if (!valid_layer(m_.output)) diags_.error({}, "model '" + m_.name + "' has no output layer");
    std::set<std::string> cell_names;
    for (size_t c = 0; c < m_.cells.size(); ++c) {
      const Cell &cell = m_.cells[c];
      if (!cell_names.insert(cell.name).second)
        diags_.error(cell_loc(static_cast<int>(c)), "duplicate cell '" + cell.name + "'");
      if (users[c] != 1)
        diags_.error(cell_loc(static_cast<int>(c)),
                     "cell '" + cell.name + "' is used by " + std::to_string(users[c]) +
                         " layers (each cell belongs to exactly one cell layer)");
      check_cell(cell, cell_loc(static_cast<int>(c)));
    }
    return diags_.error_count() == before;
  }

 private:
  const Model &m_;
  DiagnosticEngine &diags_;

  bool valid_layer(int i) const { return i >= 0 && i < static_cast<int>(m_.layers.size()); }

  SourceLoc cell_loc(int c) const {
    for (const auto &l : m_.layers)
      if (l.kind == Layer::CellOp && l.cell == c) return l.loc;
    return {};
  }

  void error(const Layer &l, const std::string &message) {
    diags_.error(l.loc, "layer '" + l.name + "': " + message);
  }

  /// The output shape a layer's kind and attributes give for input shape `in` (empty: the
  /// input does not fit, reported here).
  std::vector<int64_t> expected_shape(const Layer &l, const std::vector<int64_t> &in) {
    const char *kind = layer_kind_name(l.kind);
    switch (l.kind) {
      case Layer::Input:
        return l.shape;
      case Layer::Linear:
        if (in.size() != 1) {
          error(l, std::string(kind) + " needs a flat input, got " + shape_text(in));
          return {};
        }
        return {l.out_features};
      case Layer::Conv2d:
      case Layer::MaxPool:
      case Layer::AvgPool: {
        if (in.size() != 3) {
          error(l, std::string(kind) + " needs a [channels, height, width] input, got " +
                       shape_text(in));
          return {};
        }
        if (l.kernel < 1 || l.stride < 1 || l.padding < 0) {
          error(l, "kernel and stride must be positive and padding not negative");
          return {};
        }
        if (l.kind == Layer::MaxPool && l.kernel > 15)
          error(l, "maxpool kernel " + std::to_string(l.kernel) + " is too large (at most 15)");
        if (l.kind != Layer::Conv2d && l.channels != in[0])
          error(l, "a pool keeps its input's " + std::to_string(in[0]) + " channels, not " +
                       std::to_string(l.channels));
        const int64_t oh = (in[1] + 2 * l.padding - l.kernel) / l.stride + 1;
        const int64_t ow = (in[2] + 2 * l.padding - l.kernel) / l.stride + 1;
        if (in[1] + 2 * l.padding < l.kernel || in[2] + 2 * l.padding < l.kernel) {
          error(l,
                "kernel " + std::to_string(l.kernel) + " does not fit the input " + shape_text(in));
          return {};
        }
        return {l.kind == Layer::Conv2d ? l.channels : in[0], oh, ow};
      }
      case Layer::Flatten:
        return {product(in)};
      case Layer::Dropout:
      case Layer::CellOp:
        return in;
    }
    return {};
  }

  void layer(int i, const std::vector<int> &consumers) {
    const Layer &l = m_.layers[i];
    const bool input_kind = l.kind == Layer::Input;
    if (input_kind && i != 0) error(l, "only the first layer may be the input");
    if (input_kind && l.input != -1) error(l, "the input layer reads no layer");
    if (l.shape.empty()) error(l, "empty shape");
    for (int64_t d : l.shape)
      if (d < 1) {
        error(l, "shape " + shape_text(l.shape) + " has a dimension below 1");
        break;
      }
    bool input_ok = input_kind;
    if (!input_kind) {
      if (!valid_layer(l.input))
        error(l, "reads no layer (input index " + std::to_string(l.input) + ")");
      else if (l.input >= i)
        error(l, "reads '" + m_.layers[l.input].name +
                     "', which comes after it (a layer's input must precede it)");
      else
        input_ok = true;
    }
    if (input_ok) {
      const std::vector<int64_t> &in = input_kind ? l.shape : m_.layers[l.input].shape;
      std::vector<int64_t> want = expected_shape(l, in);
      if (!want.empty() && want != l.shape)
        error(l, std::string("a ") + layer_kind_name(l.kind) + " of input " + shape_text(in) +
                     " gives " + shape_text(want) + ", not " + shape_text(l.shape));
    }
    attributes(l);
    if (l.fused_pool != -1) fused_pool(i, l, consumers);
    if (l.kind == Layer::CellOp) {
      if (l.cell < 0 || l.cell >= static_cast<int>(m_.cells.size()))
        error(l, "no cell (cell index " + std::to_string(l.cell) + ")");
      else if (m_.cells[l.cell].name != l.name)
        error(l,
              "its cell is named '" + m_.cells[l.cell].name + "' (a cell takes its layer's name)");
    }
  }

  void attributes(const Layer &l) {
    const bool synaptic = l.kind == Layer::Linear || l.kind == Layer::Conv2d;
    if (l.kind == Layer::Linear && l.out_features < 1) error(l, "needs a positive output size");
    if (l.kind == Layer::Conv2d && l.channels < 1) error(l, "needs a positive channel count");
    if (!synaptic && l.synapse != Layer::Synapse::Auto)
      error(l, "only linear and conv2d layers choose a synapse");
    if (!synaptic && l.event_threshold != -1)
      error(l, "only linear and conv2d layers have an event_threshold");
    if (synaptic && l.event_threshold != -1 && !(l.event_threshold >= 0 && l.event_threshold <= 1))
      error(l, "event_threshold must be a density in [0, 1] (or absent: not planned)");
    if (l.sparsity != 0 && (l.kind != Layer::Linear || !(l.sparsity > 0 && l.sparsity < 1)))
      error(l, "sparsity must be in [0, 1), on linear layers only");
    if (l.compressed && (l.kind != Layer::Linear || l.sparsity <= 0))
      error(l, "only a sparse linear layer can be compressed");
    if (l.kind == Layer::Dropout ? !(l.rate >= 0 && l.rate < 1) : l.rate != 0)
      error(l, "a dropout rate must be in [0, 1), on dropout layers only");
    if (l.kind != Layer::CellOp && l.cell != -1) error(l, "only cell layers have a cell");
    if (l.kind != Layer::Conv2d && l.fused_pool != -1) error(l, "only a conv2d fuses a pool");
  }

  void fused_pool(int i, const Layer &conv, const std::vector<int> &consumers) {
    if (!valid_layer(conv.fused_pool)) {
      error(conv, "fused_pool index " + std::to_string(conv.fused_pool) + " names no layer");
      return;
    }
    if (conv.kind != Layer::Conv2d) return;  // reported by attributes()
    const Layer &pool = m_.layers[conv.fused_pool];
    if (pool.kind != Layer::MaxPool || pool.input != i)
      error(conv, "fused_pool '" + pool.name + "' must be a maxpool reading this conv2d");
    else if (pool.kernel != pool.stride || pool.padding != 0)
      error(conv, "fused_pool '" + pool.name +
                      "' overlaps or pads (a fused pool has kernel = stride, padding = 0)");
    if (consumers[i] != 1 || i == m_.output)
      error(conv, "a conv2d that computes its pool must have that pool as its only consumer");
  }

  // ---- cells ----

  void check_expr(const ExprPtr &e, const std::set<std::string> &scope, const Cell &c,
                  const std::string &where, SourceLoc fallback) {
    if (!e) return;
    const SourceLoc loc = e->loc.valid() ? e->loc : fallback;
    for (const auto &v : free_vars(e))
      if (!scope.count(v))
        diags_.error(loc, "cell '" + c.name + "': unknown name '" + v + "' in " + where);
    check_calls(e, c, where, fallback);
  }

  void check_calls(const ExprPtr &e, const Cell &c, const std::string &where, SourceLoc fallback) {
    if (e->kind == ExprKind::Call) {
      const int arity = builtin_arity(e->name);
      const SourceLoc loc = e->loc.valid() ? e->loc : fallback;
      if (arity < 0)
        diags_.error(loc, "cell '" + c.name + "': unknown function '" + e->name + "' in " + where);
      else if (arity != static_cast<int>(e->args.size()))
        diags_.error(loc, "cell '" + c.name + "': '" + e->name + "' takes " +
                              std::to_string(arity) + " arguments");
    }
    for (const auto &a : e->args) check_calls(a, c, where, fallback);
  }

  /// Lets extend the scope; sets must name one of `assignable`, each at most once when
  /// `once` (returned: the names set).
  std::set<std::string> block(const Cell &c, const std::vector<Stmt> &stmts,
                              std::set<std::string> scope, const std::set<std::string> &assignable,
                              const std::string &where, bool once, SourceLoc fallback) {
    std::set<std::string> set;
    for (const auto &s : stmts) {
      const SourceLoc loc = s.loc.valid() ? s.loc : fallback;
      check_expr(s.value, scope, c, where, loc);
      if (s.kind == Stmt::Spike) {
        diags_.error(loc, "cell '" + c.name + "': 'spike' statement in " + where);
      } else if (s.kind == Stmt::Let) {
        if (!scope.insert(s.name).second)
          diags_.error(loc, "cell '" + c.name + "': '" + s.name + "' is already defined");
      } else if (!assignable.count(s.name)) {
        diags_.error(loc, "cell '" + c.name + "': " + where + " sets '" + s.name +
                              "'; it may set only " + list(assignable));
      } else if (!set.insert(s.name).second && once) {
        diags_.error(loc, "cell '" + c.name + "': " + where + " sets '" + s.name + "' twice");
      }
    }
    return set;
  }

  static std::string list(const std::set<std::string> &names) {
    std::string s;
    for (const auto &n : names) s += (s.empty() ? "'" : ", '") + n + "'";
    return s.empty() ? "nothing" : s;
  }

  void check_cell(const Cell &c, SourceLoc loc) {
    if (c.neuron.empty()) diags_.error(loc, "cell '" + c.name + "' names no neuron");
    if (!c.threshold && !c.output)
      diags_.error(loc, "cell '" + c.name + "' neither spikes nor has an output");
    std::set<std::string> params, names;
    for (const auto &p : c.params) {
      if (!is_constant(p.value))
        diags_.error(p.loc.valid() ? p.loc : loc,
                     "cell '" + c.name + "': parameter '" + p.name + "' must be a number");
      if (!names.insert(p.name).second)
        diags_.error(p.loc.valid() ? p.loc : loc,
                     "cell '" + c.name + "': duplicate name '" + p.name + "'");
      params.insert(p.name);
    }
    std::set<std::string> states;
    for (const auto &s : c.states) {
      if (!is_constant(s.init))
        diags_.error(s.loc.valid() ? s.loc : loc,
                     "cell '" + c.name + "': initial value of '" + s.name + "' must be a number");
      if (!names.insert(s.name).second)
        diags_.error(s.loc.valid() ? s.loc : loc,
                     "cell '" + c.name + "': duplicate name '" + s.name + "'");
      states.insert(s.name);
    }
    // s[t-1], the input and the detached reset signal
    std::set<std::string> forward = names;
    forward.insert({"I", "spiked"});
    std::set<std::string> output_scope = params;
    output_scope.insert("I");
    check_expr(c.output, output_scope, c, "output", loc);
    block(c, c.step, forward, states, "step", false, loc);
    if (c.threshold && !c.output) {
      check_expr(c.threshold, forward, c, "the spike condition", loc);
      surrogate(c, loc);
    }
    if (c.differentiated)
      differentiated(c, params, forward, loc);
    else if (!c.next.empty() || c.h || !c.backward.empty())
      diags_.error(loc, "cell '" + c.name + "' has derived statements but is not differentiated");
  }

  void surrogate(const Cell &c, SourceLoc loc) {
    const SourceLoc at = c.threshold->loc.valid() ? c.threshold->loc : loc;
    for (const auto &[name, defaults] : surrogates()) {
      if (name != c.surrogate) continue;
      for (const auto &p : c.surrogate_params) {
        bool known = false;
        for (const auto &[k, _] : defaults) known |= k == p.name;
        if (!known || !is_constant(p.value))
          diags_.error(p.loc.valid() ? p.loc : at, "cell '" + c.name + "': surrogate '" +
                                                       c.surrogate + "' takes no argument '" +
                                                       p.name + "' (or it is not a number)");
      }
      return;
    }
    std::vector<std::string> known;
    for (const auto &[name, _] : surrogates()) known.push_back(name);
    diags_.error(at, "cell '" + c.name + "': unknown surrogate '" + c.surrogate + "'" +
                         did_you_mean(c.surrogate, known));
  }

  void differentiated(const Cell &c, const std::set<std::string> &params,
                      const std::set<std::string> &forward, SourceLoc loc) {
    const std::string where = "cell '" + c.name + "': ";
    std::set<std::string> bwd_scope = params, assignable = {"_g_I"};
    bwd_scope.insert({"I", "_g_spk"});
    if (c.output) {
      if (!c.next.empty() || c.h)
        diags_.error(loc, where + "a stateless cell has no next or surrogate_input");
    } else {
      if (c.next.size() != c.states.size())
        diags_.error(loc, where + std::to_string(c.next.size()) + " next expressions for " +
                              std::to_string(c.states.size()) + " states (one per state)");
      for (size_t j = 0; j < c.next.size() && j < c.states.size(); ++j) {
        if (!c.next[j])
          diags_.error(loc, where + "no next for state '" + c.states[j].name + "'");
        else
          check_expr(c.next[j], forward, c, "next of '" + c.states[j].name + "'", loc);
      }
      std::set<std::string> post = params;
      bwd_scope.insert(forward.begin(), forward.end());
      for (const auto &s : c.states) {
        post.insert("_post_" + s.name);
        bwd_scope.insert({"_post_" + s.name, "_a_" + s.name});
        assignable.insert("_a_" + s.name);
      }
      post.insert(forward.begin(), forward.end());
      if (!c.h)
        diags_.error(loc, where + "differentiated without a surrogate_input");
      else
        check_expr(c.h, post, c, "surrogate_input", loc);
    }
    std::set<std::string> set = block(c, c.backward, bwd_scope, assignable, "backward", true, loc);
    for (const auto &name : assignable)
      if (!set.count(name))
        diags_.error(loc, where + "backward does not set '" + name + "' (it must set " +
                              list(assignable) + ")");
  }
};

}  // namespace

bool verify(const Model &model, DiagnosticEngine &diags) {
  return ModelVerifier(model, diags).run();
}

}  // namespace snnc::ir
