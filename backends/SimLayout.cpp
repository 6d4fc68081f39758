// SimLayout.cpp — parameter, buffer and propagator slots; overrides; runtime spec.
#include "SimLayout.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "ExprUtils.h"

namespace snnc::backends {

int SimLayout::param(const std::string &owner, const std::string &local) const {
  auto it = param_index.find(owner + "." + local);
  return it == param_index.end() ? -1 : it->second;
}

int SimLayout::group_of(const std::string &name) const {
  for (size_t g = 0; g < groups.size(); ++g)
    if (groups[g] == name) return static_cast<int>(g);
  return -1;
}

namespace {

int add_buffer(SimLayout &l, std::string name, rt::ElemType type, int64_t count) {
  l.buffers.push_back({std::move(name), type, count});
  return static_cast<int>(l.buffers.size()) - 1;
}

void add_param(SimLayout &l, const std::string &owner, const ir::Param &p) {
  std::string name = owner + "." + p.name;
  l.param_index[name] = static_cast<int>(l.params.size());
  l.params.push_back({name, owner, p.name, p.dim, p.value});
}

int64_t group_size_of(const ir::Module &m, const std::string &name);

/// The arrays of a synapse model: per-synapse state (sized by the runtime once the
/// synapses exist), traces with their last-update steps, and the index from each
/// postsynaptic neuron to its incoming synapses.
void synapse_slots(SimLayout &l, const ir::Module &m, const ir::Connection &c, ConnectionSlots &s) {
  const ir::SynapseModel &sm = *c.synapse;
  for (const auto &p : sm.params) add_param(l, c.name, p);
  for (const auto &st : sm.states)
    s.synapse_vars[st.name] = add_buffer(l, c.name + "." + st.name, rt::ElemType::F64, 0);
  const int64_t n_pre = group_size_of(m, c.pre), n_post = group_size_of(m, c.post);
  // with delays drawn per synapse, a presynaptic spike reaches each synapse at its own
  // time: the presynaptic traces are kept per synapse (sized by the runtime)
  const bool per_synapse = c.per_synapse_delay();
  s.pre_traces_per_synapse = per_synapse && !sm.pre_traces.empty();
  for (const auto &t : sm.pre_traces)
    s.pre_traces[t.name] =
        add_buffer(l, c.name + "." + t.name, rt::ElemType::F64, per_synapse ? 0 : n_pre);
  for (const auto &t : sm.post_traces)
    s.post_traces[t.name] = add_buffer(l, c.name + "." + t.name, rt::ElemType::F64, n_post);
  bool pre_decays = false, post_decays = false;
  for (const auto &d : sm.decays) (sm.kind_of(d.var) == 'a' ? pre_decays : post_decays) = true;
  if (pre_decays)
    s.pre_last = add_buffer(l, c.name + ".pre_last", rt::ElemType::I64, per_synapse ? 0 : n_pre);
  if (post_decays) s.post_last = add_buffer(l, c.name + ".post_last", rt::ElemType::I64, n_post);
  s.col_ptr = add_buffer(l, c.name + ".col_ptr", rt::ElemType::I64, n_post + 1);
  s.in_synapse = add_buffer(l, c.name + ".in_synapse", rt::ElemType::I32, 0);
  s.pre_of = add_buffer(l, c.name + ".pre_of", rt::ElemType::I32, 0);
}

int64_t group_size_of(const ir::Module &m, const std::string &name) {
  if (auto *p = m.find_population(name)) return p->size;
  if (auto *s = m.find_source(name)) return s->size;
  return 0;
}

}  // namespace

int64_t group_size(const ir::Module &m, const std::string &name) {
  if (auto *p = m.find_population(name)) return p->size;
  if (auto *s = m.find_source(name)) return s->size;
  return 0;
}

SimLayout make_layout(const ir::Module &m) {
  SimLayout l;
  for (const auto &p : m.sim_params) add_param(l, m.name, p);
  l.dt_param = l.param(m.name, "dt");
  l.duration_param = l.param(m.name, "duration");
  l.learning_param = l.param(m.name, "learning");
  for (const auto &pop : m.populations) {
    for (const auto &p : pop.params) add_param(l, pop.name, p);
    PopulationSlots s;
    for (const auto &st : pop.states)
      s.vars[st.name] = add_buffer(l, pop.name + "." + st.name, rt::ElemType::F64, pop.size);
    for (const auto &in : pop.inputs)
      s.vars[in.name] = add_buffer(l, pop.name + "." + in.name, rt::ElemType::F64, pop.size);
    s.flags = add_buffer(l, pop.name + ".spiked", rt::ElemType::U8, pop.size);
    s.spikes = add_buffer(l, pop.name + ".spike_index", rt::ElemType::I32, pop.size);
    for (const auto &pr : pop.propagators) {
      s.derived = static_cast<int>(l.derived_count);
      l.derived_count += static_cast<int64_t>(pr.vars.size() * pr.vars.size() * 2);
    }
    s.group = static_cast<int>(l.groups.size());
    l.groups.push_back(pop.name);
    l.populations[pop.name] = s;
  }
  for (const auto &src : m.sources) {
    for (const auto &p : src.params) add_param(l, src.name, p);
    if (src.kind == ir::Source::Current) continue;
    l.poisson_spikes[src.name] =
        add_buffer(l, src.name + ".spike_index", rt::ElemType::I32, src.size);
    if (src.kind == ir::Source::Poisson)
      l.poisson_id[src.name] = static_cast<int>(l.poisson_id.size());
    else
      l.stimulus_id[src.name] = static_cast<int>(l.stimulus_id.size());
    l.groups.push_back(src.name);
  }
  for (const auto &c : m.connections) {
    ConnectionSlots s;
    s.row_ptr = add_buffer(l, c.name + ".row_ptr", rt::ElemType::I64, group_size(m, c.pre) + 1);
    s.col = add_buffer(l, c.name + ".col", rt::ElemType::I32, 0);
    bool random_weight = c.weight && (ir::contains_call(c.weight, "uniform") ||
                                      ir::contains_call(c.weight, "normal"));
    if (c.synapse) {
      // the weight is the synapse model's state `w`
    } else if (random_weight) {
      s.weight = add_buffer(l, c.name + ".weight", rt::ElemType::F64, 0);
    } else {
      Dim target_dim;  // the weight is added to the target, so it has its dimension
      if (const ir::Population *post = m.find_population(c.post)) {
        for (const auto &st : post->states)
          if (st.name == c.target) target_dim = st.dim;
        for (const auto &in : post->inputs)
          if (in.name == c.target) target_dim = in.dim;
      }
      ir::Param w{"w", target_dim, c.weight, c.loc};
      add_param(l, c.name, w);
      s.weight_param = l.param(c.name, "w");
    }
    s.pre_group = l.group_of(c.pre);
    s.index = static_cast<int>(l.connections.size());
    if (c.delay && c.per_synapse_delay()) {
      s.delays = add_buffer(l, c.name + ".delay", rt::ElemType::I32, 0);
    } else if (c.delay) {
      add_param(l, c.name, ir::Param{"delay", Dim::base(2), c.delay, c.loc});
      s.delay_param = l.param(c.name, "delay");
    }
    if (c.synapse) synapse_slots(l, m, c, s);
    l.connections[c.name] = s;
  }
  return l;
}

std::vector<double> evaluate_params(const SimLayout &l,
                                    const std::map<std::string, double> &overrides) {
  std::vector<double> values(l.params.size(), 0.0);
  static const Dim farad = parse_unit("F")->dim;
  auto finite = [&](size_t i) {
    const ParamSlot &p = l.params[i];
    if (std::isnan(values[i]) || (std::isinf(values[i]) && p.local != "stop"))
      throw std::runtime_error("parameter '" + p.name + "' evaluates to " +
                               ir::format_number(values[i]));
    // a negative time constant or capacitance makes a neuron's dynamics diverge
    if (values[i] < 0 && l.populations.count(p.owner) && (p.dim == Dim::base(2) || p.dim == farad))
      throw std::runtime_error("parameter '" + p.name + "' is a negative " +
                               (p.dim == farad ? "capacitance" : "time") + " (" +
                               ir::format_number(values[i]) + (p.dim == farad ? " F)" : " s)"));
  };
  for (size_t i = 0; i < l.params.size(); ++i) {
    const ParamSlot &p = l.params[i];
    auto it = overrides.find(p.name);
    if (it != overrides.end()) {
      values[i] = it->second;
      finite(i);
      continue;
    }
    values[i] = ir::evaluate(p.value, [&](const std::string &name) -> double {
      int slot = l.param(p.owner, name);
      if (slot < 0 || static_cast<size_t>(slot) >= i)
        throw std::runtime_error("parameter '" + p.name + "' reads '" + name +
                                 "', which is not an earlier parameter");
      return values[slot];
    });
    finite(i);
  }
  return values;
}

std::pair<std::string, double> parse_override(const SimLayout &l, const std::string &text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::runtime_error("--set expects NAME=VALUE (e.g. E.tau_m=25ms), got '" + text + "'");
  std::string name = text.substr(0, eq), value = text.substr(eq + 1);
  auto it = l.param_index.find(name);
  if (it == l.param_index.end()) {
    std::vector<std::string> names;
    for (const auto &p : l.params) names.push_back(p.name);
    throw std::runtime_error("unknown parameter '" + name + "'" + did_you_mean(name, names));
  }
  const char *begin = value.c_str();
  char *end = nullptr;
  double v = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(v))
    throw std::runtime_error("--set " + name + ": '" + value + "' is not a number");
  std::string unit_text(end);
  Unit unit;
  if (!unit_text.empty()) {
    auto u = parse_unit(unit_text);
    if (!u) throw std::runtime_error("--set " + name + ": unknown unit '" + unit_text + "'");
    unit = *u;
  }
  const Dim &want = l.params[it->second].dim;
  if (unit.dim != want && v != 0)
    throw std::runtime_error("--set " + name + ": value has dimension '" + unit.dim.str() +
                             "', expected '" + want.str() + "'");
  return {name, v * unit.scale};
}

namespace {

/// A delay in whole steps of dt, at least one (the compiler checked constant values
/// against the file's dt; `--set` may change either).
int64_t delay_steps(const std::string &conn, double delay, double dt) {
  double steps = delay / dt;
  char msg[256];
  if (!(steps >= 1 - 1e-9)) {
    std::snprintf(msg, sizeof msg,
                  "connection '%s': delay %g ms is below dt (%g ms); a spike cannot arrive "
                  "before the next step",
                  conn.c_str(), delay * 1e3, dt * 1e3);
    throw std::runtime_error(msg);
  }
  if (std::fabs(steps - std::round(steps)) > 1e-6 * std::max(1.0, steps)) {
    std::snprintf(msg, sizeof msg,
                  "connection '%s': delay %g ms is not a whole number of steps of dt = %g ms",
                  conn.c_str(), delay * 1e3, dt * 1e3);
    throw std::runtime_error(msg);
  }
  if (steps > 1e7) {
    std::snprintf(msg, sizeof msg, "connection '%s': delay of %g steps is more than 1e7",
                  conn.c_str(), steps);
    throw std::runtime_error(msg);
  }
  return static_cast<int64_t>(std::llround(steps));
}

void delay_spec(const ir::Connection &c, const ConnectionSlots &s,
                const std::vector<double> &params, double dt, rt::ConnectivitySpec &cs) {
  if (s.delay_param >= 0) cs.delay_steps = delay_steps(c.name, params.at(s.delay_param), dt);
  if (s.delays < 0) return;
  const ir::ExprPtr &d = c.delay;  // uniform(a, b), constant after folding
  if (d->kind != ir::ExprKind::Call || d->name != "uniform" || !ir::is_constant(d->args[0]) ||
      !ir::is_constant(d->args[1]))
    throw std::runtime_error("delay of '" + c.name +
                             "' must be a constant or uniform(a, b) with constant arguments");
  cs.delay_buffer = s.delays;
  cs.delay_lo = d->args[0]->value;
  cs.delay_hi = d->args[1]->value;
  delay_steps(c.name, cs.delay_lo, dt);  // the shortest must reach the next step
  if (!(cs.delay_hi >= cs.delay_lo))
    throw std::runtime_error("delay of '" + c.name + "': uniform(a, b) needs a <= b");
  if (cs.delay_hi / dt > 1e7)
    throw std::runtime_error("delay of '" + c.name + "' is more than 1e7 steps");
}

}  // namespace

rt::SimSpec make_sim_spec(const ir::Module &m, const SimLayout &l,
                          const std::vector<double> &params) {
  rt::SimSpec spec;
  spec.buffers = l.buffers;
  spec.dt = params.at(l.dt_param);
  double duration = params.at(l.duration_param);
  if (!(spec.dt > 0) || !(duration > 0))
    throw std::runtime_error("dt and duration must be positive");
  double steps = std::round(duration / spec.dt);  // checked before the conversion overflows
  if (spec.dt > duration)
    throw std::runtime_error("dt (" + ir::format_number(spec.dt) + " s) is longer than duration (" +
                             ir::format_number(duration) + " s)");
  if (!(steps <= 1e10))
    throw std::runtime_error("duration / dt is " + ir::format_number(steps) +
                             " steps, more than the limit of 1e10");
  spec.steps = static_cast<int64_t>(steps);
  spec.seed = m.seed;
  spec.derived_count = l.derived_count;
  for (const auto &g : l.groups) spec.groups.push_back({g, group_size(m, g), false});
  for (const auto &src : m.sources)
    if (int g = l.group_of(src.name); src.kind == ir::Source::Poisson && g >= 0)
      spec.poisson_groups.push_back(static_cast<int32_t>(g));
    else if (src.kind == ir::Source::Stimulus && g >= 0)
      spec.stimulus_groups.push_back(static_cast<int32_t>(g));
  for (const auto &r : m.records) {
    if (r.kind == ir::Record::Spikes) {
      for (auto &g : spec.groups)
        if (g.name == r.group) {
          // several records of one group: keep the union of their ranges
          int64_t begin = r.end >= 0 ? r.begin : 0, end = r.end >= 0 ? r.end : g.size;
          if (g.record) {
            begin = std::min(begin, g.record_begin);
            end = std::max(end, g.record_end < 0 ? g.size : g.record_end);
          }
          g.record = true;
          g.record_begin = begin;
          g.record_end = end;
        }
    } else {
      spec.traces.push_back({r.group, r.var, r.neurons});
    }
  }
  for (const auto &c : m.connections) {
    const ConnectionSlots &s = l.connections.at(c.name);
    rt::ConnectivitySpec cs;
    cs.name = c.name;
    cs.n_pre = group_size(m, c.pre);
    cs.n_post = group_size(m, c.post);
    cs.kind = c.kind == ir::Connection::Random     ? rt::ConnKind::Random
              : c.kind == ir::Connection::OneToOne ? rt::ConnKind::OneToOne
                                                   : rt::ConnKind::AllToAll;
    cs.p = c.p ? c.p->value : 0;
    cs.autapses = c.autapses;
    cs.same_group = c.pre == c.post;
    cs.row_ptr_buffer = s.row_ptr;
    cs.col_buffer = s.col;
    cs.weight_buffer = s.weight;
    cs.pre_group = s.pre_group;
    for (const auto &[_, slot] : s.synapse_vars) cs.synapse_buffers.push_back(slot);
    if (s.pre_traces_per_synapse) {
      for (const auto &[_, slot] : s.pre_traces) cs.trace_buffers.push_back(slot);
      if (s.pre_last >= 0) cs.last_update_buffer = s.pre_last;
    }
    cs.col_ptr_buffer = s.col_ptr;
    cs.in_synapse_buffer = s.in_synapse;
    cs.pre_of_buffer = s.pre_of;
    delay_spec(c, s, params, spec.dt, cs);
    if (s.weight >= 0) {
      // weight = uniform(a, b) or normal(m, s) with constant arguments (after folding)
      const ir::ExprPtr &w = c.weight;
      if (w->kind != ir::ExprKind::Call || !ir::is_constant(w->args[0]) ||
          !ir::is_constant(w->args[1]))
        throw std::runtime_error(
            "weight of '" + c.name +
            "' must be uniform(a, b) or normal(mean, std) with constant arguments");
      cs.weight = w->name == "uniform" ? rt::WeightKind::Uniform : rt::WeightKind::Normal;
      cs.w_a = w->args[0]->value;
      cs.w_b = w->args[1]->value;
    }
    spec.connections.push_back(cs);
  }
  return spec;
}

rt::ProtocolSpec make_protocol_spec(const ir::Module &m, const SimLayout &l,
                                    const std::vector<double> &params, const rt::SimSpec &spec) {
  const ir::Protocol &p = *m.protocol;
  rt::ProtocolSpec out;
  auto value = [&](const char *name) { return params.at(l.param(m.name, name)); };
  auto steps = [&](const char *name) {
    double n = std::round(value(name) / spec.dt);
    if (!(n >= 0 && n <= 1e9))
      throw std::runtime_error(std::string(name) + " is " + ir::format_number(n) + " steps");
    return static_cast<int64_t>(n);
  };
  out.data_dir = p.data;
  out.stimulus = l.stimulus_id.at(p.source);
  out.max_rate = value("max_rate");
  out.boost = value("boost");
  out.present_steps = steps("present_time");
  out.rest_steps = steps("rest_time");
  if (out.present_steps < 1) throw std::runtime_error("the presentation time is below dt");
  out.repeat_below = p.repeat_below;
  out.count_group = p.count.empty() ? -1 : l.group_of(p.count);
  out.learn_images = p.learn_images;
  if (!p.normalise.empty()) {
    const ConnectionSlots &s = l.connections.at(p.normalise);
    out.normalise = s.index;
    out.normalise_weights = s.synapse_vars.at("w");
    out.normalise_total = value("normalise_total");
  }
  out.classify_group = p.classify.empty() ? -1 : l.group_of(p.classify);
  out.assign_images = p.assign_images;
  out.linear_readout = p.linear_readout;
  out.test_images = p.test_images;
  out.learning_param = l.learning_param;
  return out;
}

}  // namespace snnc::backends
