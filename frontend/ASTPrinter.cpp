// ASTPrinter.cpp — the indented dump of `snnc emit --ast` (stable; pinned by lit tests).
//
// One node per line, two spaces per level; definitions carry `@line:col` of their name;
// expressions are printed by ir::to_string (literals as `20[ms]`). Items are printed by
// kind in a fixed order, not in source order:
//
//   neuron LIF @1:8
//     param tau_m: ms = 20[ms]
//     state v: mV = v_rest
//     input I: nA
//     let a = 2 * v
//     output = max(I, 0)
//     ode v = (v_rest - v + R * I) / tau_m
//     update v = v + 1          (one line per assignment; `update {}` when empty)
//     spike when v > v_th surrogate fast_sigmoid(slope = 25)
//     reset v = v_reset         (one line per assignment, `reset u += d` for +=)
//     refractory t_ref
//     method rk4
//   synapse STDP @8:9
//     param wmax: real = 0.01
//     state w: real = 0
//     pre apre: real = 0        (`post apost` for a postsynaptic trace)
//     let d = 2 * apre
//     ode apre = -apre / taupre
//     on_pre ge += w            (one line per assignment; `on_pre {}` when empty)
//     on_post apost += dApost
//   network CUBA @10:9
//     param cell: neuron = Leaky
//     input x: [1, 28, 28]
//     layer h = x |> conv2d(12, kernel = 5) |> flatten |> cell
//     output layer y = h |> linear(10) |> cell
//     population E = 3200 of LIF(tau_m = 20[ms])
//     source drive = current(amplitude = 0.5[nA])
//     connect E -> E, Inh[0:10] (one_to_one, w = 2[mV])
//     connect P -> E (w = 0.01, delay = 1[ms]) with STDP(wmax = 0.01)
//   simulation cuba @20:12
//     network = CUBA
//     record spikes(E, Inh[0:100])
//   experiment mnist @30:12     (settings in source order)
//     data = mnist("data/mnist")  (strings quoted, with \" \\ \n \t escapes)
//     model = CSNN(cell = Leaky(beta = 0.9))
//     train(epochs = 10, batch = 128)   (a bare call)
#include "AST.h"

namespace snnc::ast {
namespace {

std::string at(SourceLoc loc) {
  return " @" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

std::string expr(const ExprPtr &e) {
  return e ? ir::to_string(e) : "<null>";
}

std::string typed(const std::string &name, const TypeRef &type, const ExprPtr &value) {
  std::string s = name;
  if (!type.text.empty()) s += ": " + type.text;
  if (value) s += " = " + expr(value);
  return s;
}

std::string arg(const Arg &a) {
  if (!a.value) return a.name;  // a flag such as one_to_one
  if (a.name.empty()) return expr(a.value);
  return a.name + " = " + expr(a.value);
}

/// `(a = 1, b)`; "" when there are no arguments.
std::string args(const std::vector<Arg> &as) {
  if (as.empty()) return "";
  std::string s = "(";
  for (size_t i = 0; i < as.size(); ++i) s += (i ? ", " : "") + arg(as[i]);
  return s + ")";
}

std::string group(const GroupRef &g) {
  std::string s = g.name;
  if (g.begin)
    s += "[" + std::to_string(*g.begin) + ":" + std::to_string(g.end.value_or(*g.begin + 1)) + "]";
  return s;
}

std::string groups(const std::vector<GroupRef> &gs) {
  std::string s;
  for (size_t i = 0; i < gs.size(); ++i) s += (i ? ", " : "") + group(gs[i]);
  return s;
}

std::string assign(const Assign &a) {
  std::string op = a.op == '+' ? "+=" : a.op == '-' ? "-=" : "=";
  return a.target + " " + op + " " + expr(a.value);
}

/// `"text"` with the escapes of the language (other control characters as \xNN).
std::string string_literal(const std::string &text) {
  std::string s = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c == '\n') {
      s += "\\n";
    } else if (c == '\t') {
      s += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      const char *hex = "0123456789ABCDEF";
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    } else {
      s += static_cast<char>(c);
    }
  }
  return s + "\"";
}

std::string value(const Value &v);

/// `(a = 1, b)` for a call written with parentheses, "" otherwise.
std::string value_args(const std::vector<NamedValue> &as, bool has_parens) {
  if (!has_parens && as.empty()) return "";
  std::string s = "(";
  for (size_t i = 0; i < as.size(); ++i)
    s += (i ? ", " : "") + (as[i].name.empty() ? "" : as[i].name + " = ") + value(as[i].value);
  return s + ")";
}

std::string value(const Value &v) {
  switch (v.kind) {
    case Value::String:
      return string_literal(v.text);
    case Value::Call:
      return v.text + value_args(v.args, true);
    case Value::Expr:
      break;
  }
  return expr(v.expr);
}

void neuron(std::string &out, const NeuronDef &n) {
  out += "neuron " + n.name + at(n.loc) + "\n";
  for (const auto &p : n.params) out += "  param " + typed(p.name, p.type, p.default_value) + "\n";
  for (const auto &s : n.states) out += "  state " + typed(s.name, s.type, s.init) + "\n";
  for (const auto &i : n.inputs) out += "  input " + typed(i.name, i.type, nullptr) + "\n";
  for (const auto &l : n.lets) out += "  let " + l.name + " = " + expr(l.value) + "\n";
  if (n.output) out += "  output = " + expr(n.output) + "\n";
  for (const auto &o : n.odes) out += "  ode " + o.var + " = " + expr(o.rhs) + "\n";
  if (n.has_update && n.update.empty()) out += "  update {}\n";
  for (const auto &a : n.update) out += "  update " + assign(a) + "\n";
  if (n.spike) {
    out += "  spike when " + expr(n.spike);
    if (n.surrogate) out += " surrogate " + n.surrogate->name + args(n.surrogate->args);
    out += "\n";
  }
  for (const auto &a : n.reset) out += "  reset " + assign(a) + "\n";
  if (n.refractory) out += "  refractory " + expr(n.refractory) + "\n";
  if (!n.method.empty()) out += "  method " + n.method + "\n";
}

void synapse(std::string &out, const SynapseDef &n) {
  out += "synapse " + n.name + at(n.loc) + "\n";
  for (const auto &p : n.params) out += "  param " + typed(p.name, p.type, p.default_value) + "\n";
  for (const auto &s : n.states) out += "  state " + typed(s.name, s.type, s.init) + "\n";
  for (const auto &t : n.traces)
    out += std::string("  ") + (t.side == TraceDecl::Pre ? "pre " : "post ") +
           typed(t.name, t.type, t.init) + "\n";
  for (const auto &l : n.lets) out += "  let " + l.name + " = " + expr(l.value) + "\n";
  for (const auto &o : n.odes) out += "  ode " + o.var + " = " + expr(o.rhs) + "\n";
  if (n.has_on_pre && n.on_pre.empty()) out += "  on_pre {}\n";
  for (const auto &a : n.on_pre) out += "  on_pre " + assign(a) + "\n";
  if (n.has_on_post && n.on_post.empty()) out += "  on_post {}\n";
  for (const auto &a : n.on_post) out += "  on_post " + assign(a) + "\n";
}

void network(std::string &out, const NetworkDef &net) {
  out += "network " + net.name + at(net.loc) + "\n";
  for (const auto &p : net.params)
    out += "  param " + typed(p.name, p.type, p.default_value) + "\n";
  for (const auto &in : net.inputs) {
    out += "  input " + in.name + ": [";
    for (size_t i = 0; i < in.shape.size(); ++i)
      out += (i ? ", " : "") + std::to_string(in.shape[i]);
    out += "]\n";
  }
  for (const auto &l : net.layers) {
    out += std::string("  ") + (l.output ? "output " : "") + "layer " + l.name + " = " + l.source;
    for (const auto &st : l.stages) out += " |> " + st.name + value_args(st.args, st.has_parens);
    out += "\n";
  }
  for (const auto &p : net.populations)
    out +=
        "  population " + p.name + " = " + expr(p.size) + " of " + p.neuron + args(p.args) + "\n";
  for (const auto &s : net.sources) {
    std::string a = args(s.args);
    out += "  source " + s.name + " = " + s.kind + (a.empty() ? "()" : a) + "\n";
  }
  for (const auto &c : net.connections) {
    out += "  connect " + groups(c.pre) + " -> " + groups(c.post);
    if (!c.args.empty()) out += " " + args(c.args);
    if (!c.synapse.empty()) out += " with " + c.synapse + args(c.synapse_args);
    out += "\n";
  }
}

void simulation(std::string &out, const SimulationDef &s) {
  out += "simulation " + s.name + at(s.loc) + "\n";
  for (const auto &a : s.settings) out += "  " + a.name + " = " + expr(a.value) + "\n";
  for (const auto &r : s.records) out += "  record " + r.what + "(" + groups(r.groups) + ")\n";
  for (const auto &p : s.protocol) out += "  " + value(p.value) + "\n";
}

void experiment(std::string &out, const ExperimentDef &x) {
  out += "experiment " + x.name + at(x.loc) + "\n";
  for (const auto &s : x.settings) {
    // a bare call `train(...)` is stored with its callee as the name, at the same place
    bool bare = s.value.kind == Value::Call && s.value.text == s.name &&
                s.value.loc.line == s.loc.line && s.value.loc.col == s.loc.col;
    out += "  " + (bare ? value(s.value) : s.name + " = " + value(s.value)) + "\n";
  }
}

}  // namespace

std::string print(const File &file) {
  std::string out;
  for (const auto &n : file.neurons) neuron(out, n);
  for (const auto &n : file.synapses) synapse(out, n);
  for (const auto &n : file.networks) network(out, n);
  for (const auto &s : file.simulations) simulation(out, s);
  for (const auto &x : file.experiments) experiment(out, x);
  return out;
}

}  // namespace snnc::ast
