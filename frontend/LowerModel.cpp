// LowerModel.cpp — layer networks and cells to ir::Model.
#include "LowerModel.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "DimensionChecker.h"
#include "ExprUtils.h"
#include "passes/Autodiff.h"
#include "passes/PlanSynapses.h"

namespace snnc::frontend {
namespace {

using namespace ast;

class ModelLowering {
 public:
  ModelLowering(const File &f, DiagnosticEngine &d) : file_(f), diags_(d), dc_(d) {}

  std::optional<ir::Model> run(const std::string &name, const std::vector<NamedValue> &args,
                               SourceLoc use) {
    const NetworkDef *net = nullptr;
    std::vector<std::string> names;
    for (const auto &n : file_.networks) {
      names.push_back(n.name);
      if (n.name == name) net = &n;
    }
    if (!net) {
      diags_.error(use, "unknown network '" + name + "'" + did_you_mean(name, names));
      return std::nullopt;
    }
    if (net->inputs.size() != 1) {
      diags_.error(net->loc,
                   "network '" + name + "' needs exactly one `input x: [shape]` to be trained");
      return std::nullopt;
    }
    // network parameters: defaults, then the arguments of this use
    for (const auto &p : net->params) {
      if (p.type.text != "neuron") {
        diags_.error(p.type.loc, "network parameters must be neurons (`cell: neuron = Leaky`)");
        continue;
      }
      if (p.default_value) {
        Value v;
        v.kind = Value::Expr;
        v.expr = p.default_value;
        v.loc = p.loc;
        cell_params_[p.name] = v;
      }
    }
    for (const auto &a : args) {
      bool known = false;
      for (const auto &p : net->params) known |= p.name == a.name;
      if (!known) {
        std::vector<std::string> ps;
        for (const auto &p : net->params) ps.push_back(p.name);
        diags_.error(a.loc, "network '" + name + "' has no parameter '" + a.name + "'" +
                                did_you_mean(a.name, ps));
        continue;
      }
      cell_params_[a.name] = a.value;
    }
    ir::Model m;
    m.name = name;
    ir::Layer in;
    in.kind = ir::Layer::Input;
    in.name = net->inputs[0].name;
    in.shape = net->inputs[0].shape;
    in.loc = net->inputs[0].loc;
    m.layers.push_back(in);
    std::map<std::string, int> by_name = {{in.name, 0}};
    for (const auto &decl : net->layers) {
      auto src = by_name.find(decl.source);
      if (src == by_name.end()) {
        std::vector<std::string> known;
        for (auto &[k, _] : by_name) known.push_back(k);
        diags_.error(decl.source_loc, "unknown input or layer '" + decl.source + "'" +
                                          did_you_mean(decl.source, known));
        return std::nullopt;
      }
      int current = src->second;
      for (const auto &stage : decl.stages) {
        int next = stage_layer(m, stage, current, decl.name);
        if (next < 0) return std::nullopt;
        current = next;
      }
      if (by_name.count(decl.name)) {
        diags_.error(decl.loc, "duplicate layer '" + decl.name + "'");
        return std::nullopt;
      }
      by_name[decl.name] = current;
      if (decl.output) m.output = current;
    }
    if (m.output < 0) {
      diags_.error(net->loc, "network '" + name + "' has no `output` layer");
      return std::nullopt;
    }
    if (diags_.has_errors()) return std::nullopt;
    return m;
  }

 private:
  const File &file_;
  DiagnosticEngine &diags_;
  DimensionChecker dc_;
  std::map<std::string, Value> cell_params_;

  std::optional<double> constant(const Value &v, const std::string &what) {
    if (v.kind != Value::Expr) {
      diags_.error(v.loc, what + " must be a number");
      return std::nullopt;
    }
    auto c = dc_.constant_value(v.expr);
    if (!c) diags_.error(v.loc, what + " must be a constant number");
    return c;
  }

  std::optional<int64_t> positive_int(const Value &v, const std::string &what) {
    auto c = constant(v, what);
    if (!c) return std::nullopt;
    if (*c < 1 || *c != std::floor(*c) || *c > 1e9) {
      diags_.error(v.loc, what + " must be a positive integer, got " + ir::format_number(*c));
      return std::nullopt;
    }
    return static_cast<int64_t>(*c);
  }

  /// Argument `name` (or positional `index`) of a stage; null if absent.
  static const Value *arg(const LayerStage &s, const std::string &name, int index) {
    int positional = 0;
    for (const auto &a : s.args) {
      if (a.name == name) return &a.value;
      if (a.name.empty() && positional++ == index) return &a.value;
    }
    return nullptr;
  }

  bool check_args(const LayerStage &s, const std::vector<std::string> &allowed) {
    bool ok = true;
    for (const auto &a : s.args)
      if (!a.name.empty() && std::find(allowed.begin(), allowed.end(), a.name) == allowed.end()) {
        diags_.error(a.loc, "'" + s.name + "' has no argument '" + a.name + "'" +
                                did_you_mean(a.name, allowed));
        ok = false;
      }
    return ok;
  }

  /// `synapse = auto | dense | event` (named only).
  bool synapse_arg(const LayerStage &s, ir::Layer &l) {
    for (const auto &a : s.args) {
      if (a.name != "synapse") continue;
      const Value &v = a.value;
      std::string mode =
          v.kind == Value::Expr && v.expr->kind == ir::ExprKind::Var ? v.expr->name : "";
      if (!ir::synapse_from_name(mode, &l.synapse)) {
        diags_.error(v.loc, "synapse must be auto, dense or event" +
                                (mode.empty() ? std::string()
                                              : did_you_mean(mode, {"auto", "dense", "event"})));
        return false;
      }
    }
    return true;
  }

  int add(ir::Model &m, ir::Layer l) {
    // a pipeline may use an op twice (`linear(100) |> cell |> linear(10)`): number repeats
    auto taken = [&](const std::string &name) {
      for (const auto &other : m.layers)
        if (other.name == name) return true;
      return false;
    };
    if (taken(l.name)) {
      int k = 2;
      while (taken(l.name + std::to_string(k))) ++k;
      l.name += std::to_string(k);
      if (l.kind == ir::Layer::CellOp) m.cells[l.cell].name = l.name;
    }
    m.layers.push_back(std::move(l));
    return static_cast<int>(m.layers.size()) - 1;
  }

  int stage_layer(ir::Model &m, const LayerStage &s, int input, const std::string &layer_name) {
    const std::vector<int64_t> &in = m.layers[input].shape;
    ir::Layer l;
    l.input = input;
    l.loc = s.loc;
    l.name = layer_name + "." + s.name;
    if (s.name == "linear") {
      if (!check_args(s, {"out", "synapse", "sparsity"}) || !synapse_arg(s, l)) return -1;
      if (const Value *sp = arg(s, "sparsity", -1)) {
        auto fraction = constant(*sp, "linear's sparsity");
        if (!fraction) return -1;
        if (*fraction < 0 || *fraction >= 1) {
          diags_.error(sp->loc,
                       "linear's sparsity (the fraction of absent connections) must be in "
                       "[0, 1), got " +
                           ir::format_number(*fraction));
          return -1;
        }
        l.sparsity = *fraction;
      }
      const Value *n = arg(s, "out", 0);
      if (!n) {
        diags_.error(s.loc, "linear needs the number of outputs, e.g. linear(10)");
        return -1;
      }
      auto out = positive_int(*n, "linear's output size");
      if (!out) return -1;
      if (in.size() != 1) {
        diags_.error(s.loc,
                     "linear takes a flat input; insert `flatten` before it (input shape has " +
                         std::to_string(in.size()) + " dimensions)");
        return -1;
      }
      l.kind = ir::Layer::Linear;
      l.out_features = *out;
      l.shape = {*out};
      return add(m, l);
    }
    if (s.name == "conv2d" || s.name == "maxpool" || s.name == "avgpool") {
      bool conv = s.name == "conv2d";
      if (!check_args(s, conv ? std::vector<std::string>{"channels", "kernel", "stride", "padding",
                                                         "synapse"}
                              : std::vector<std::string>{"kernel", "stride", "padding"}) ||
          (conv && !synapse_arg(s, l)))
        return -1;
      if (in.size() != 3) {
        diags_.error(s.loc, s.name + " takes [channels, height, width] inputs");
        return -1;
      }
      int first = 0;
      if (conv) {
        const Value *c = arg(s, "channels", first++);
        if (!c) {
          diags_.error(s.loc,
                       "conv2d needs the number of output channels, e.g. conv2d(12, kernel = 5)");
          return -1;
        }
        auto ch = positive_int(*c, "conv2d's channel count");
        if (!ch) return -1;
        l.channels = *ch;
      }
      const Value *k = arg(s, "kernel", first);
      if (!k) {
        diags_.error(s.loc, s.name + " needs a kernel size");
        return -1;
      }
      auto kernel = positive_int(*k, "the kernel size");
      if (!kernel) return -1;
      if (s.name == "maxpool" && *kernel > 15) {  // winners are one byte: K*K < 255
        diags_.error(k->loc, "maxpool kernel " + std::to_string(*kernel) +
                                 " is too large (at most 15; use avgpool for global pooling)");
        return -1;
      }
      l.kernel = *kernel;
      l.stride = conv ? 1 : l.kernel;
      if (const Value *st = arg(s, "stride", first + 1)) {
        auto v = positive_int(*st, "the stride");
        if (!v) return -1;
        l.stride = *v;
      }
      if (const Value *p = arg(s, "padding", first + 2)) {
        auto v = constant(*p, "the padding");
        if (!v || *v < 0 || *v != std::floor(*v)) return -1;
        l.padding = static_cast<int64_t>(*v);
      }
      int64_t oh = (in[1] + 2 * l.padding - l.kernel) / l.stride + 1;
      int64_t ow = (in[2] + 2 * l.padding - l.kernel) / l.stride + 1;
      if (in[1] + 2 * l.padding < l.kernel || in[2] + 2 * l.padding < l.kernel || oh < 1 ||
          ow < 1) {
        diags_.error(s.loc, s.name + " kernel " + std::to_string(l.kernel) +
                                " does not fit the input " + std::to_string(in[1]) + "x" +
                                std::to_string(in[2]));
        return -1;
      }
      l.kind = conv                  ? ir::Layer::Conv2d
               : s.name == "maxpool" ? ir::Layer::MaxPool
                                     : ir::Layer::AvgPool;
      if (!conv) l.channels = in[0];
      l.shape = {conv ? l.channels : in[0], oh, ow};
      return add(m, l);
    }
    if (s.name == "flatten") {
      l.kind = ir::Layer::Flatten;
      int64_t n = 1;
      for (int64_t d : in) n *= d;
      l.shape = {n};
      return add(m, l);
    }
    if (s.name == "dropout") {
      const Value *p = arg(s, "p", 0);
      auto rate = p ? constant(*p, "dropout's p") : std::optional<double>(0.5);
      if (!rate) return -1;
      if (*rate < 0 || *rate >= 1) {
        diags_.error(p->loc, "dropout's p must be in [0, 1), got " + ir::format_number(*rate));
        return -1;
      }
      l.kind = ir::Layer::Dropout;
      l.rate = *rate;
      l.shape = in;
      return add(m, l);
    }
    // a cell: a network parameter (`cell`) or a neuron name (`Leaky(beta = 0.9)`)
    std::string neuron = s.name;
    std::vector<NamedValue> args = s.args;
    if (auto it = cell_params_.find(s.name); it != cell_params_.end()) {
      // a parameter may default to another one (`readout: neuron = cell`); follow the chain
      const Value *value = &it->second;
      for (int hops = 0;
           hops < 8 && value->kind == Value::Expr && value->expr->kind == ir::ExprKind::Var;
           ++hops) {
        auto next = cell_params_.find(value->expr->name);
        if (next == cell_params_.end() || &next->second == value) break;
        value = &next->second;
      }
      const Value &v = *value;
      if (v.kind == Value::Expr && v.expr->kind == ir::ExprKind::Var) {
        neuron = v.expr->name;
      } else if (v.kind == Value::Call) {
        neuron = v.text;
        args = v.args;
      } else {
        diags_.error(v.loc, "'" + s.name + "' must name a neuron");
        return -1;
      }
    }
    const NeuronDef *def = nullptr;
    std::vector<std::string> known = {"linear",  "conv2d",  "maxpool",
                                      "avgpool", "flatten", "dropout"};
    for (const auto &n : file_.neurons) {
      known.push_back(n.name);
      if (n.name == neuron) def = &n;
    }
    for (const auto &[p, _] : cell_params_) known.push_back(p);
    if (!def) {
      diags_.error(s.loc, "unknown layer or neuron '" + neuron + "'" + did_you_mean(neuron, known));
      return -1;
    }
    auto cell = make_cell(*def, args, layer_name);
    if (!cell) return -1;
    l.kind = ir::Layer::CellOp;
    l.name = layer_name;
    if (m.layers.back().name == layer_name) l.name = layer_name + "." + neuron;
    cell->name = l.name;
    l.shape = in;
    l.cell = static_cast<int>(m.cells.size());
    m.cells.push_back(std::move(*cell));
    return add(m, l);
  }

  /// Folds a neuron expression to SI with parameter values substituted.
  ir::ExprPtr fold(const ir::ExprPtr &e, const std::map<std::string, ir::ExprPtr> &subst) {
    ir::ExprPtr si = ir::transform(e, [&](const ir::ExprPtr &n) -> ir::ExprPtr {
      if (n->kind == ir::ExprKind::Number && !n->unit.empty()) {
        auto u = parse_unit(n->unit);
        return ir::num(n->value * (u ? u->scale : 1.0), n->loc);
      }
      return n;
    });
    return ir::simplify(ir::substitute(si, subst));
  }

  std::optional<ir::Cell> make_cell(const NeuronDef &n, const std::vector<NamedValue> &args,
                                    const std::string &layer) {
    ir::Cell c;
    c.neuron = n.name;
    if (!n.odes.empty()) {
      diags_.error(n.odes.front().loc, "neuron '" + n.name +
                                           "' uses ODEs; cells of trainable layers need a discrete "
                                           "`update` (or `output = ...`) for now");
      return std::nullopt;
    }
    std::map<std::string, ir::ExprPtr> subst;  // param -> its constant value
    for (const auto &p : n.params) {
      ir::ExprPtr value = p.default_value;
      for (const auto &a : args) {
        if (a.name == p.name) {
          if (a.value.kind != Value::Expr) {
            diags_.error(a.loc, "argument '" + a.name + "' must be a number");
            return std::nullopt;
          }
          value = a.value.expr;
        }
      }
      if (!value) {
        diags_.error(n.loc, "parameter '" + p.name + "' of neuron '" + n.name + "' has no value");
        return std::nullopt;
      }
      ir::ExprPtr v = fold(value, subst);
      if (!ir::is_constant(v)) {
        diags_.error(value->loc, "parameter '" + p.name + "' of a cell must be a constant");
        return std::nullopt;
      }
      subst[p.name] = v;
      c.params.push_back({p.name, Dim::none(), v, p.loc});
    }
    for (const auto &a : args) {
      bool known = false;
      for (const auto &p : n.params) known |= p.name == a.name;
      if (!known) {
        std::vector<std::string> ps;
        for (const auto &p : n.params) ps.push_back(p.name);
        diags_.error(a.loc, "neuron '" + n.name + "' has no parameter '" + a.name + "'" +
                                did_you_mean(a.name, ps));
        return std::nullopt;
      }
    }
    std::map<std::string, ir::ExprPtr> lets;
    for (const auto &l : n.lets) lets[l.name] = ir::substitute(l.value, lets);
    auto expand = [&](const ir::ExprPtr &e) {
      return e ? ir::simplify(ir::substitute(fold(e, {}), lets)) : e;
    };
    for (const auto &s : n.states) {
      ir::ExprPtr init = s.init ? fold(s.init, subst) : ir::num(0);
      if (!ir::is_constant(init)) {
        diags_.error(s.loc, "initial value of a cell state must be a constant");
        return std::nullopt;
      }
      c.states.push_back({s.name, Dim::none(), init, s.loc});
    }
    for (const auto &a : n.update) {
      ir::ExprPtr v = expand(a.value);
      if (a.op == '+') v = ir::var(a.target) + v;
      if (a.op == '-') v = ir::var(a.target) - v;
      c.step.push_back({ir::Stmt::Set, a.target, v, a.loc});
    }
    c.output = expand(n.output);
    c.threshold = expand(n.spike);
    if (!c.output && !c.threshold) {
      diags_.error(n.loc, "neuron '" + n.name + "' is used as a cell of '" + layer +
                              "' but neither spikes (`spike when`) nor has an `output`");
      return std::nullopt;
    }
    if (!n.reset.empty())
      diags_.warning(n.reset.front().loc,
                     "`reset` is ignored in trainable cells; write the reset into `update` with "
                     "`spiked` (e.g. `- spiked * threshold`)");
    if (n.surrogate) {
      c.surrogate = n.surrogate->name;
      bool known = false;
      for (const auto &[name, params] : ir::surrogates()) {
        if (name != c.surrogate) continue;
        known = true;
        for (const auto &a : n.surrogate->args) {
          bool ok = false;
          for (const auto &[k, _] : params) ok |= k == a.name;
          auto v = a.value ? dc_.constant_value(a.value) : std::nullopt;
          if (!ok || !v) {
            diags_.error(a.loc,
                         "surrogate '" + c.surrogate + "' takes no argument '" + a.name + "'");
            return std::nullopt;
          }
          c.surrogate_params.push_back({a.name, Dim::none(), ir::num(*v), a.loc});
        }
      }
      if (!known) {
        std::vector<std::string> names;
        for (const auto &[name, _] : ir::surrogates()) names.push_back(name);
        diags_.error(n.surrogate->loc,
                     "unknown surrogate '" + c.surrogate + "'" + did_you_mean(c.surrogate, names));
        return std::nullopt;
      }
    }
    return c;
  }
};

}  // namespace

std::optional<ir::Model> lower_model(const ast::File &file, const std::string &network,
                                     const std::vector<ast::NamedValue> &args,
                                     DiagnosticEngine &diags, SourceLoc use) {
  return ModelLowering(file, diags).run(network, args, use);
}

}  // namespace snnc::frontend
