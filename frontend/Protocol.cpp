// Protocol.cpp — checking and lowering of sample protocols (see Protocol.h).
#include "Protocol.h"

#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

#include "DimensionChecker.h"
#include "ExprUtils.h"

namespace snnc::frontend {
namespace {

using namespace ast;

/// The argument `name` of a protocol call, or its `position`-th positional one.
const NamedValue *argument(const Value &call, const std::string &name, int position = -1) {
  int k = 0;
  for (const auto &a : call.args) {
    if (a.name == name) return &a;
    if (a.name.empty() && k++ == position) return &a;
  }
  return nullptr;
}

std::string name_of(const Value &v) {
  return v.kind == Value::Expr && v.expr && v.expr->kind == ir::ExprKind::Var ? v.expr->name : "";
}

struct Spec {
  std::map<std::string, std::optional<Dim>> quantities;  ///< name -> dimension (nullopt: count)
  std::set<std::string> names;                           ///< arguments that name something
  std::set<std::string> required;
};

const std::map<std::string, Spec> &specs() {
  static const Dim hz = Dim::base(2, -1), s = Dim::base(2);
  static const std::map<std::string, Spec> all = {
      {"present",
       {{{"max_rate", hz}, {"time", s}, {"rest", s}, {"boost", hz}, {"repeat_below", std::nullopt}},
        {"source", "count", "data"},
        {"source", "data", "max_rate", "time"}}},
      {"learn", {{{"images", std::nullopt}, {"total", Dim::none()}}, {"normalise"}, {"images"}}},
      {"classify",
       {{{"assign", std::nullopt}, {"test", std::nullopt}},
        {"group", "readout"},
        {"group", "assign", "test"}}},
  };
  return all;
}

}  // namespace

std::map<std::string, bool> connection_names(const File &file, const NetworkDef &net) {
  std::map<std::string, bool> out;
  for (const auto &c : net.connections) {
    bool plastic_w = false;
    for (const auto &s : file.synapses)
      if (s.name == c.synapse)
        for (const auto &st : s.states) plastic_w |= st.name == "w";
    for (const auto &pre : c.pre)
      for (const auto &post : c.post) {
        std::string base = pre.name + "_to_" + post.name, name = base;
        for (int i = 2; out.count(name); ++i) name = base + "_" + std::to_string(i);
        out[name] = plastic_w;
      }
  }
  return out;
}

void check_protocol(const SimulationDef &sim, const ProtocolNames &names, DiagnosticEngine &diags) {
  DimensionChecker dc(diags);
  std::set<std::string> seen;
  for (const auto &item : sim.protocol) {
    const Value &call = item.value;
    auto spec_it = specs().find(call.text);
    if (spec_it == specs().end()) {
      diags.error(item.loc, "unknown simulation item '" + call.text + "(...)'" +
                                did_you_mean(call.text, {"present", "learn", "classify"}));
      continue;
    }
    if (!seen.insert(call.text).second)
      diags.error(item.loc, "'" + call.text + "(...)' given twice");
    const Spec &spec = spec_it->second;
    // the first positional argument names the source (present) or the group (classify)
    const std::string positional = call.text == "present"    ? "source"
                                   : call.text == "classify" ? "group"
                                                             : "";
    std::set<std::string> given;
    int positionals = 0;
    for (const auto &a : call.args) {
      std::string name = a.name;
      if (name.empty()) {
        if (positionals++ > 0 || positional.empty()) {
          diags.error(a.loc, "'" + call.text + "' takes named arguments, e.g. " +
                                 (call.text == "learn" ? "images = 60000" : "time = 350ms"));
          continue;
        }
        name = positional;
      }
      if (!given.insert(name).second) diags.error(a.loc, "argument '" + name + "' given twice");
      std::vector<std::string> known(spec.names.begin(), spec.names.end());
      for (auto &[k, _] : spec.quantities) known.push_back(k);
      if (!spec.names.count(name) && !spec.quantities.count(name)) {
        diags.error(a.loc, "'" + call.text + "' has no argument '" + name + "'" +
                               did_you_mean(name, known));
        continue;
      }
      if (name == "data") {
        bool ok = a.value.kind == Value::Call &&
                  (a.value.text == "mnist" || a.value.text == "fashion_mnist") &&
                  a.value.args.size() == 1 && a.value.args[0].value.kind == Value::String;
        if (!ok)
          diags.error(a.value.loc, "'data' is a data set, e.g. data = mnist(\"data/mnist\")");
        continue;
      }
      if (spec.names.count(name)) {
        std::string n = name_of(a.value);
        if (name == "readout") {
          if (n != "vote" && n != "linear")
            diags.error(a.value.loc,
                        "'readout' is vote (label assignment, the default) or "
                        "linear (a ridge-regression readout of the spike counts)");
          continue;
        }
        if (name == "normalise") {
          auto c = names.connections.find(n);
          if (c == names.connections.end()) {
            std::vector<std::string> conns;
            for (auto &[k, _] : names.connections) conns.push_back(k);
            diags.error(a.value.loc, "'" + (n.empty() ? std::string("?") : n) +
                                         "' is not a connection of the network (connections are "
                                         "named <pre>_to_<post>)" +
                                         did_you_mean(n, conns));
          } else if (!c->second) {
            diags.error(a.value.loc, "'" + n +
                                         "' has no synapse model with a per-synapse 'w' "
                                         "to normalise");
          }
          continue;
        }
        auto g = names.groups.find(n);
        const char want = name == "source" ? 's' : 'p';
        if (g == names.groups.end() || g->second != want) {
          std::vector<std::string> candidates;
          for (auto &[k, kind] : names.groups)
            if (kind == want) candidates.push_back(k);
          diags.error(a.value.loc,
                      "'" + (n.empty() ? std::string("?") : n) + "' is not " +
                          (want == 's' ? "a stimulus source (source x = stimulus(n = ...))"
                                       : "a population") +
                          " of the network" + did_you_mean(n, candidates));
        }
        continue;
      }
      // a quantity or a count
      if (a.value.kind != Value::Expr) {
        diags.error(a.value.loc, "'" + name + "' takes a number");
        continue;
      }
      NeuronScope empty;
      auto got = dc.infer(a.value.expr, empty, false);
      if (!got) continue;
      auto v = dc.constant_value(a.value.expr);
      const auto &want = spec.quantities.at(name);
      if (want) {
        dc.expect_dim(a.value.expr, *got, *want, "'" + name + "'");
        if (v && *v < 0) diags.error(a.value.loc, "'" + name + "' must not be negative");
      } else if (!v || *v < 0 || *v != std::floor(*v) || *v > 1e9) {
        diags.error(a.value.loc, "'" + name + "' must be a whole number");
      }
    }
    for (const auto &r : spec.required)
      if (!given.count(r)) diags.error(item.loc, "'" + call.text + "' needs '" + r + "'");
    if (call.text == "present" && given.count("repeat_below") && !given.count("count"))
      diags.error(item.loc, "'repeat_below' needs 'count', the population whose spikes it counts");
    if (call.text == "learn" && given.count("normalise") != given.count("total"))
      diags.error(item.loc,
                  "'normalise' and 'total' go together: the weights into each neuron "
                  "are scaled to sum to 'total'");
  }
  if (!sim.protocol.empty() && !seen.count("present"))
    diags.error(sim.protocol.front().loc, "a protocol needs present(...) to say what it shows");
}

void lower_protocol(const SimulationDef &sim, ir::Module &m) {
  if (sim.protocol.empty()) return;
  ir::Protocol p;
  p.loc = sim.protocol.front().loc;
  auto quantity = [&](const std::string &name, ExprPtr e, Dim dim) {
    m.sim_params.push_back({name, dim, e ? e : ir::num(0), p.loc});
  };
  auto count = [](const NamedValue *a) -> int64_t {
    if (!a) return 0;
    return std::llround(ir::evaluate(a->value.expr, [](const std::string &n) -> double {
      throw std::logic_error("protocol count reads '" + n + "'");
    }));
  };
  auto expr = [](const NamedValue *a) -> ExprPtr { return a ? a->value.expr : nullptr; };
  const Dim hz = Dim::base(2, -1), s = Dim::base(2);
  ExprPtr total;
  for (const auto &item : sim.protocol) {
    const Value &c = item.value;
    if (c.text == "present") {
      p.source = name_of(argument(c, "source", 0)->value);
      p.data = argument(c, "data")->value.args[0].value.text;
      if (auto *a = argument(c, "count")) p.count = name_of(a->value);
      p.repeat_below = count(argument(c, "repeat_below"));
      quantity("max_rate", expr(argument(c, "max_rate")), hz);
      quantity("present_time", expr(argument(c, "time")), s);
      quantity("rest_time", expr(argument(c, "rest")), s);
      quantity("boost", expr(argument(c, "boost")), hz);
    } else if (c.text == "learn") {
      p.learn_images = count(argument(c, "images"));
      if (auto *a = argument(c, "normalise")) p.normalise = name_of(a->value);
      total = expr(argument(c, "total"));
    } else if (c.text == "classify") {
      p.classify = name_of(argument(c, "group", 0)->value);
      p.assign_images = count(argument(c, "assign"));
      p.test_images = count(argument(c, "test"));
      if (auto *r = argument(c, "readout")) p.linear_readout = name_of(r->value) == "linear";
    }
  }
  if (total) quantity("normalise_total", total, Dim::none());
  m.protocol = std::move(p);
}

}  // namespace snnc::frontend
