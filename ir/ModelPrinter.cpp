// ModelPrinter.cpp — the text of a Model (layers, cells and their derived gradients), in
// the form ModelParser reads back.
#include "Model.h"
#include "passes/PlanSynapses.h"

namespace snnc::ir {

const char *layer_kind_name(Layer::Kind k) {
  switch (k) {
    case Layer::Input:
      return "input";
    case Layer::Linear:
      return "linear";
    case Layer::Conv2d:
      return "conv2d";
    case Layer::MaxPool:
      return "maxpool";
    case Layer::AvgPool:
      return "avgpool";
    case Layer::Flatten:
      return "flatten";
    case Layer::Dropout:
      return "dropout";
    case Layer::CellOp:
      return "cell";
  }
  return "?";
}

bool layer_kind_from_name(const std::string &name, Layer::Kind *kind) {
  for (auto k : {Layer::Input, Layer::Linear, Layer::Conv2d, Layer::MaxPool, Layer::AvgPool,
                 Layer::Flatten, Layer::Dropout, Layer::CellOp})
    if (name == layer_kind_name(k)) {
      *kind = k;
      return true;
    }
  return false;
}

namespace {

/// A layer's name; "?" for an index out of range (a model the verifier would refuse).
std::string layer_name(const Model &m, int index) {
  return index >= 0 && index < static_cast<int>(m.layers.size()) ? m.layers[index].name : "?";
}

std::string shape_text(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void block(std::string &out, const char *name, const std::vector<Stmt> &stmts) {
  out += std::string("    ") + name + " {\n";
  for (const auto &s : stmts)
    out += std::string("      ") +
           (s.kind == Stmt::Spike ? "spike "
                                  : (s.kind == Stmt::Let ? "let " : "set ") + s.name + " = ") +
           to_string(s.value) + "\n";
  out += "    }\n";
}

}  // namespace

std::string print(const Model &m) {
  std::string out = "model " + m.name + " {\n";
  for (const auto &l : m.layers) {
    out += "  layer " + l.name + " = " + layer_kind_name(l.kind);
    std::string attrs;
    auto add = [&](const std::string &a) { attrs += (attrs.empty() ? "" : ", ") + a; };
    if (l.input >= 0) add(layer_name(m, l.input));
    if (l.kind == Layer::Linear) add(std::to_string(l.out_features));
    if (l.kind == Layer::Conv2d) add(std::to_string(l.channels));
    if (l.kind == Layer::CellOp)
      add(l.cell >= 0 && l.cell < static_cast<int>(m.cells.size()) ? m.cells[l.cell].neuron : "?");
    if (l.kind == Layer::Conv2d || l.kind == Layer::MaxPool || l.kind == Layer::AvgPool)
      add("kernel = " + std::to_string(l.kernel) + ", stride = " + std::to_string(l.stride) +
          ", padding = " + std::to_string(l.padding));
    if (l.kind == Layer::Dropout) add("p = " + format_number(l.rate));
    if (l.sparsity > 0) add("sparsity = " + format_number(l.sparsity));
    if (l.compressed) add("compressed = true");
    if (l.synapse != Layer::Synapse::Auto || l.event_threshold >= 0)
      add(std::string("synapse = ") + synapse_name(l.synapse));
    if (l.event_threshold >= 0) add("event_threshold = " + format_number(l.event_threshold));
    if (l.fused_pool >= 0) add("fused_pool = " + layer_name(m, l.fused_pool));
    for (const auto &conv : m.layers)
      if (conv.fused_pool >= 0 && layer_name(m, conv.fused_pool) == l.name)
        add("computed_by = " + conv.name);
    out += "(" + attrs + ") : " + shape_text(l.shape) + "\n";
  }
  out += "  output " + layer_name(m, m.output) + "\n";
  for (const auto &c : m.cells) {
    out += "  cell " + c.name + " : " + c.neuron + " {\n";
    for (const auto &p : c.params) out += "    param " + p.name + " = " + to_string(p.value) + "\n";
    for (const auto &s : c.states) out += "    state " + s.name + " = " + to_string(s.init) + "\n";
    if (c.output) out += "    output " + to_string(c.output) + "\n";
    if (!c.step.empty()) block(out, "step", c.step);
    if (c.threshold) {
      std::string sp;
      for (const auto &p : c.surrogate_params)
        sp += (sp.empty() ? "" : ", ") + p.name + " = " + to_string(p.value);
      out += "    spike " + to_string(c.threshold) + " surrogate " + c.surrogate + "(" + sp + ")" +
             (c.detach_reset ? " detach_reset" : "") + "\n";
    }
    if (c.differentiated) {
      if (!c.output) {
        for (size_t j = 0; j < c.states.size() && j < c.next.size(); ++j)
          out += "    next " + c.states[j].name + " = " + to_string(c.next[j]) + "\n";
        if (c.h) out += "    surrogate_input " + to_string(c.h) + "\n";
      }
      block(out, "backward", c.backward);
    }
    out += "  }\n";
  }
  return out + "}\n";
}

}  // namespace snnc::ir
