// IRPrinter.cpp — prints a Module in the line-oriented text format read by IRParser.
#include "IRPrinter.h"

namespace snnc::ir {

const char *method_name(Method m) {
  switch (m) {
    case Method::Auto:
      return "auto";
    case Method::Exact:
      return "exact";
    case Method::ExponentialEuler:
      return "exponential_euler";
    case Method::RK4:
      return "rk4";
    case Method::Euler:
      return "euler";
  }
  return "auto";
}

std::optional<Method> parse_method(const std::string &s) {
  for (Method m :
       {Method::Auto, Method::Exact, Method::ExponentialEuler, Method::RK4, Method::Euler})
    if (s == method_name(m)) return m;
  return std::nullopt;
}

namespace {

class Printer {
 public:
  std::string out;

  void line(int indent, const std::string &text) {
    out.append(indent * 2, ' ');
    out += text;
    out += '\n';
  }

  void params(int indent, const std::vector<Param> &ps) {
    for (const auto &p : ps)
      line(indent, "param " + p.name + ": " + p.dim.str() + " = " + to_string(p.value));
  }

  void block(int indent, const char *keyword, const std::vector<Stmt> &stmts) {
    line(indent, std::string(keyword) + " {");
    for (const auto &s : stmts) {
      switch (s.kind) {
        case Stmt::Let:
          line(indent + 1, "let " + s.name + " = " + to_string(s.value));
          break;
        case Stmt::Set:
          line(indent + 1, "set " + s.name + " = " + to_string(s.value));
          break;
        case Stmt::Spike:
          line(indent + 1, "spike " + to_string(s.value));
          break;
      }
    }
    line(indent, "}");
  }

  void population(const Population &p) {
    line(1, "population " + p.name + " : " + p.neuron + " size " + std::to_string(p.size) +
                " method " + method_name(p.method) + " {");
    params(2, p.params);
    for (const auto &s : p.states)
      line(2, "state " + s.name + ": " + s.dim.str() + " = " + to_string(s.init));
    for (const auto &i : p.inputs) line(2, "input " + i.name + ": " + i.dim.str());
    for (const auto &o : p.odes) line(2, "ode " + o.var + " = " + to_string(o.rhs));
    for (const auto &pr : p.propagators) {
      std::string vars, rows;
      for (size_t i = 0; i < pr.vars.size(); ++i) vars += (i ? ", " : "") + pr.vars[i];
      for (size_t i = 0; i < pr.a.size(); ++i) {
        rows += i ? ", [" : "[";
        for (size_t j = 0; j < pr.a[i].size(); ++j) rows += (j ? ", " : "") + to_string(pr.a[i][j]);
        rows += "]";
      }
      line(2, "propagator " + pr.name + " [" + vars + "] = [" + rows + "]");
    }
    if (!p.step.empty()) block(2, "step", p.step);
    if (p.threshold) line(2, "threshold " + to_string(p.threshold));
    if (!p.reset.empty()) block(2, "reset", p.reset);
    if (p.refractory) {
      std::string clamp;
      for (size_t i = 0; i < p.clamp.size(); ++i) clamp += (i ? ", " : "") + p.clamp[i];
      line(2, "refractory " + to_string(p.refractory) + " clamp [" + clamp + "]");
    }
    if (p.fused) block(2, "kernel", p.kernel);
    line(1, "}");
  }

  static std::string targets(const std::vector<std::string> &ts) {
    std::string out;
    for (size_t i = 0; i < ts.size(); ++i) out += (i ? ", " : " -> ") + ts[i];
    return out;
  }

  void source(const Source &s) {
    line(1, "source " + s.name + " : " +
                (s.kind == Source::Current   ? "current"
                 : s.kind == Source::Poisson ? "poisson"
                                             : "stimulus") +
                " size " + std::to_string(s.size) + targets(s.targets) + " {");
    params(2, s.params);
    line(1, "}");
  }

  void connection(const Connection &c) {
    std::string text = c.event_driven ? "propagate " : "connect ";
    text +=
        c.name + " : " + c.pre + " -> " + c.post + (c.target.empty() ? "" : "." + c.target) + " ";
    switch (c.kind) {
      case Connection::AllToAll:
        text += "all_to_all";
        break;
      case Connection::OneToOne:
        text += "one_to_one";
        break;
      case Connection::Random:
        text += "random(p = " + to_string(c.p) + ")";
        break;
    }
    if (c.weight) text += " weight = " + to_string(c.weight);
    if (!c.autapses) text += " no_autapses";
    if (c.delay) text += " delay = " + to_string(c.delay);
    if (c.event_driven) text += " csr";
    if (!c.synapse) {
      line(1, text);
      return;
    }
    const SynapseModel &sm = *c.synapse;
    line(1, text + " with " + sm.name + " {");
    params(2, sm.params);
    for (const auto &st : sm.states)
      line(2, "state " + st.name + ": " + st.dim.str() + " = " + to_string(st.init));
    for (const auto &t : sm.pre_traces)
      line(2, "pre " + t.name + ": " + t.dim.str() + " = " + to_string(t.init));
    for (const auto &t : sm.post_traces)
      line(2, "post " + t.name + ": " + t.dim.str() + " = " + to_string(t.init));
    for (const auto &d : sm.decays) line(2, "decay " + d.var + " rate " + to_string(d.rate));
    block(2, "on_pre", sm.on_pre);
    block(2, "on_post", sm.on_post);
    line(1, "}");
  }

  void record(const Record &r) {
    if (r.kind == Record::Spikes) {
      std::string range;
      if (r.end >= 0) range = "[" + std::to_string(r.begin) + ":" + std::to_string(r.end) + "]";
      line(1, "record spikes " + r.group + range);
      return;
    }
    std::string ns;
    for (size_t i = 0; i < r.neurons.size(); ++i)
      ns += (i ? ", " : "") + std::to_string(r.neurons[i]);
    line(1, "record trace " + r.group + "." + r.var + " [" + ns + "]");
  }
};

}  // namespace

std::string print(const Module &m) {
  Printer p;
  p.line(0, "module " + m.name + " {");
  for (const auto &sp : m.sim_params)
    p.line(1, "sim " + sp.name + ": " + sp.dim.str() + " = " + to_string(sp.value));
  p.line(1, "seed " + std::to_string(m.seed));
  for (const auto &pop : m.populations) p.population(pop);
  for (const auto &s : m.sources) p.source(s);
  for (const auto &c : m.connections) p.connection(c);
  for (const auto &r : m.records) p.record(r);
  if (m.protocol) {
    const Protocol &pr = *m.protocol;
    std::string data;
    for (char c : pr.data) {
      if (c == '"' || c == '\\') data += '\\';
      data += c;
    }
    std::string text = "protocol present " + pr.source + " data \"" + data + "\"";
    if (!pr.count.empty())
      text += " count " + pr.count + " repeat_below " + std::to_string(pr.repeat_below);
    text += " learn " + std::to_string(pr.learn_images);
    if (!pr.normalise.empty()) text += " normalise " + pr.normalise;
    if (!pr.classify.empty())
      text += " classify " + pr.classify + " assign " + std::to_string(pr.assign_images) +
              " test " + std::to_string(pr.test_images) +
              (pr.linear_readout ? " readout linear" : "");
    p.line(1, text);
  }
  p.line(0, "}");
  return p.out;
}

char SynapseModel::kind_of(const std::string &n) const {
  for (const auto &x : states)
    if (x.name == n) return 's';
  for (const auto &x : pre_traces)
    if (x.name == n) return 'a';
  for (const auto &x : post_traces)
    if (x.name == n) return 'b';
  for (const auto &x : params)
    if (x.name == n) return 'p';
  return 0;
}

const TraceDecay *SynapseModel::decay_of(const std::string &trace) const {
  for (const auto &d : decays)
    if (d.var == trace) return &d;
  return nullptr;
}

bool Connection::per_synapse_delay() const {
  return delay && delay->kind == ExprKind::Call &&
         (delay->name == "uniform" || delay->name == "normal");
}

Population *Module::find_population(const std::string &name) {
  for (auto &p : populations)
    if (p.name == name) return &p;
  return nullptr;
}
const Population *Module::find_population(const std::string &name) const {
  for (auto &p : populations)
    if (p.name == name) return &p;
  return nullptr;
}
const Source *Module::find_source(const std::string &name) const {
  for (auto &s : sources)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace snnc::ir
