// ModelPrinter.cpp — the text of a Model (layers, cells and their derived gradients).
#include <cstdio>

#include "Model.h"
#include "passes/PlanSynapses.h"

namespace snnc::ir {

namespace {

const char *kind_name(Layer::Kind k) {
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

std::string shape_text(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void block(std::string &out, const char *name, const std::vector<Stmt> &stmts) {
  out += std::string("    ") + name + " {\n";
  for (const auto &s : stmts)
    out += std::string("      ") + (s.kind == Stmt::Let ? "let " : "set ") + s.name + " = " +
           to_string(s.value) + "\n";
  out += "    }\n";
}

}  // namespace

std::string print(const Model &m) {
  std::string out = "model " + m.name + " {\n";
  for (const auto &l : m.layers) {
    out += "  layer " + l.name + " = " + kind_name(l.kind);
    std::string attrs;
    if (l.input >= 0) attrs += m.layers[l.input].name;
    auto add = [&](const std::string &a) { attrs += (attrs.empty() ? "" : ", ") + a; };
    if (l.kind == Layer::Linear) add(std::to_string(l.out_features));
    if (l.kind == Layer::Conv2d)
      add(std::to_string(l.channels) + ", kernel = " + std::to_string(l.kernel));
    if (l.kind == Layer::MaxPool || l.kind == Layer::AvgPool)
      add("kernel = " + std::to_string(l.kernel));
    if (l.kind == Layer::Conv2d || l.kind == Layer::MaxPool || l.kind == Layer::AvgPool)
      add("stride = " + std::to_string(l.stride) + ", padding = " + std::to_string(l.padding));
    if (l.kind == Layer::Linear && l.sparsity > 0)
      add("sparsity = " + format_number(l.sparsity) +
          (l.compressed ? " (compressed: kept connections only, from events)"
                        : " (absent weights zero)"));
    if (l.compressed) {
      // always event-driven over the kept connections
    } else if (l.kind == Layer::Linear || l.kind == Layer::Conv2d) {
      if (l.synapse != Layer::Synapse::Auto)
        add(std::string("synapse = ") + synapse_name(l.synapse));
      else if (l.event_threshold >= 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", l.event_threshold);
        add(std::string("synapse = auto(events below density ") + buf + ")");
      }
    }
    if (l.kind == Layer::Conv2d && l.fused_pool >= 0)
      add("then " + m.layers[l.fused_pool].name + " fused");
    for (const auto &c : m.layers)
      if (c.kind == Layer::Conv2d && c.fused_pool >= 0 && m.layers[c.fused_pool].name == l.name)
        add("computed by " + c.name);
    if (l.kind == Layer::Dropout) add("p = " + format_number(l.rate));
    if (l.kind == Layer::CellOp) add(m.cells[l.cell].neuron);
    out += "(" + attrs + ") : " + shape_text(l.shape) + "\n";
  }
  out += "  output " + (m.output >= 0 ? m.layers[m.output].name : std::string("?")) + "\n";
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
        for (size_t j = 0; j < c.states.size(); ++j)
          out += "    next " + c.states[j].name + " = " + to_string(c.next[j]) + "\n";
        out += "    surrogate_input " + to_string(c.h) + "\n";
      }
      block(out, "backward", c.backward);
    }
    out += "  }\n";
  }
  return out + "}\n";
}

}  // namespace snnc::ir
