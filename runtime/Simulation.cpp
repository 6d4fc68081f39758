// Simulation.cpp — buffer allocation, connectivity, the chunked run and the C callbacks.
#include "Simulation.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

#include "Connectivity.h"
#include "Resources.h"
#include "SimContext.h"

namespace snnc::rt {

size_t elem_size(ElemType t) {
  switch (t) {
    case ElemType::F64:
      return 8;
    case ElemType::I64:
      return 8;
    case ElemType::I32:
      return 4;
    case ElemType::U8:
      return 1;
  }
  return 8;
}

namespace {

const char *type_name(ElemType t) {
  switch (t) {
    case ElemType::F64:
      return "F64";
    case ElemType::I64:
      return "I64";
    case ElemType::I32:
      return "I32";
    case ElemType::U8:
      return "U8";
  }
  return "?";
}

using Block = std::unique_ptr<void, SimInstance::FreeBlock>;

Block allocate(size_t bytes) {
  size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, rounded);
  if (!p) throw std::runtime_error("out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, rounded);
  return Block(p);
}

template <typename T>
Block copy_block(const std::vector<T> &v) {
  Block b = allocate(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.get(), v.data(), v.size() * sizeof(T));
  return b;
}

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Refuses runs that would exhaust memory or never finish, before allocating anything.
/// Returns the memory left for recorded spikes, whose number is known only as they come.
double check_resources(const SimSpec &spec) {
  constexpr int64_t kMaxSteps = 10'000'000'000;
  if (spec.steps > kMaxSteps)
    throw std::runtime_error(std::to_string(spec.steps) +
                             " steps is more than the limit of 1e10 (check dt and duration)");
  double bytes = 0;
  for (const auto &b : spec.buffers) bytes += static_cast<double>(b.count) * elem_size(b.type);
  for (const auto &c : spec.connections) {
    double synapses = c.kind == ConnKind::Random     ? c.p * c.n_pre * c.n_post
                      : c.kind == ConnKind::AllToAll ? static_cast<double>(c.n_pre) * c.n_post
                                                     : static_cast<double>(c.n_pre);
    double per_synapse = c.weight_buffer >= 0 ? 12 : 4;
    per_synapse += 8.0 * (c.synapse_buffers.size() + c.trace_buffers.size());
    if (c.col_ptr_buffer >= 0) per_synapse += 8;  // incoming index and presynaptic neuron
    if (c.delay_buffer >= 0) per_synapse += 4;
    bytes += synapses * per_synapse;
  }
  for (const auto &t : spec.traces) bytes += static_cast<double>(t.neurons.size()) * spec.steps * 8;
  const double ram = memory_limit_bytes();
  check_memory(bytes, "the simulation (state, synapses, traces)");
  return 0.75 * ram - bytes;
}

/// Stops a run whose recorded spikes outgrew the memory left for them.
void check_spike_memory(const snnc_rt_ctx &ctx, const SimSpec &spec) {
  if (ctx.spike_overflow_at < 0) return;
  char msg[320];
  std::snprintf(msg, sizeof msg,
                "out of memory for recorded spikes at step %lld of %lld (t = %g s, %.1f GiB "
                "recorded): record the spikes of fewer neurons (e.g. record spikes(E[0:100])) or "
                "simulate a shorter duration",
                static_cast<long long>(ctx.spike_overflow_at), static_cast<long long>(spec.steps),
                ctx.spike_overflow_at * spec.dt, ctx.spike_bytes / (1 << 30));
  throw std::runtime_error(msg);
}

/// Every traced neuron must exist, since the generated code hands over whole arrays.
void check_traces(const SimSpec &spec) {
  for (const TraceSpec &t : spec.traces)
    for (const SpikeGroupInfo &g : spec.groups) {
      if (g.name != t.group) continue;
      for (int64_t n : t.neurons)
        if (n < 0 || n >= g.size)
          throw std::runtime_error("record " + t.group + "." + t.var + "[" + std::to_string(n) +
                                   "]: '" + t.group + "' has " + std::to_string(g.size) +
                                   " neurons");
    }
}

// Stream ids: 0 initial values, 1..C connections, 1000000 + k Poisson source k,
// 2000000 + k stimulus source k.
constexpr uint64_t kPoissonStream = 1000000;
constexpr uint64_t kStimulusStream = 2000000;

}  // namespace

SimInstance::SimInstance(const SimSpec &spec, std::vector<double> params, const SimFunctions &fns)
    : spec_(spec), fns_(fns), params_(std::move(params)) {
  if (!fns.setup || !fns.init || !fns.run)
    throw std::runtime_error("simulation module lacks an entry point");
  result_.spike_counts.assign(spec.groups.size(), 0);
  result_.spikes.resize(spec.groups.size());
  result_.traces.resize(spec.traces.size());

  double spike_budget = check_resources(spec);
  check_traces(spec);
  auto t0 = std::chrono::steady_clock::now();
  blocks_.resize(spec.buffers.size());
  pointers_.assign(spec.buffers.size(), nullptr);
  for (size_t i = 0; i < spec.buffers.size(); ++i) {
    blocks_[i] =
        allocate(static_cast<size_t>(spec.buffers[i].count) * elem_size(spec.buffers[i].type));
    pointers_[i] = blocks_[i].get();
  }
  ctx_ = std::make_unique<snnc_rt_ctx>();
  snnc_rt_ctx &ctx = *ctx_;
  ctx.spec = &spec;
  ctx.result = &result_;
  ctx.init_rng = Rng(spec.seed, 0);
  ctx.spike_budget = spike_budget;
  for (size_t k = 0; k < spec.poisson_groups.size(); ++k) {
    int32_t group = spec.poisson_groups[k];
    if (group < 0 || static_cast<size_t>(group) >= spec.groups.size())
      throw std::runtime_error("Poisson source " + std::to_string(k) + " names no spike group");
    ctx.poisson_rng.emplace_back(spec.seed, kPoissonStream + k);
    ctx.poisson_size.push_back(spec.groups[group].size);
  }
  for (size_t k = 0; k < spec.stimulus_groups.size(); ++k) {
    int32_t group = spec.stimulus_groups[k];
    if (group < 0 || static_cast<size_t>(group) >= spec.groups.size())
      throw std::runtime_error("stimulus source " + std::to_string(k) + " names no spike group");
    ctx.stimulus_rng.emplace_back(spec.seed, kStimulusStream + k);
    ctx.stimulus_rates.emplace_back(spec.groups[group].size, 0.0);
  }
  ctx.out_rows.resize(spec.groups.size());
  ctx.counts.assign(spec.groups.size(), nullptr);
  for (size_t c = 0; c < spec.connections.size(); ++c) {
    const ConnectivitySpec &cs = spec.connections[c];
    Rng rng(spec.seed, 1 + c);
    Csr csr = build_connectivity(cs, rng);
    result_.synapses += static_cast<int64_t>(csr.col.size());
    auto place = [&](int slot, ElemType type, Block b) {
      if (slot < 0 || static_cast<size_t>(slot) >= blocks_.size() ||
          spec.buffers[slot].type != type)
        throw std::runtime_error("connection '" + cs.name + "': buffer slot " +
                                 std::to_string(slot) + " is not an " + type_name(type) +
                                 " buffer");
      blocks_[slot] = std::move(b);
      pointers_[slot] = blocks_[slot].get();
    };
    if (cs.weight_buffer >= 0 && cs.weight == WeightKind::Constant)
      throw std::runtime_error("connection '" + cs.name +
                               "': a weight buffer needs a uniform or normal weight");
    place(cs.row_ptr_buffer, ElemType::I64, copy_block(csr.row_ptr));
    place(cs.col_buffer, ElemType::I32, copy_block(csr.col));
    if (cs.weight_buffer >= 0) place(cs.weight_buffer, ElemType::F64, copy_block(csr.weight));
    if (cs.pre_group >= 0 && static_cast<size_t>(cs.pre_group) < ctx.out_rows.size())
      ctx.out_rows[cs.pre_group].push_back(
          static_cast<const int64_t *>(pointers_[cs.row_ptr_buffer]));
    const int64_t nnz = static_cast<int64_t>(csr.col.size());
    for (int slot : cs.synapse_buffers) place(slot, ElemType::F64, allocate(nnz * sizeof(double)));
    for (int slot : cs.trace_buffers) place(slot, ElemType::F64, allocate(nnz * sizeof(double)));
    if (cs.last_update_buffer >= 0)
      place(cs.last_update_buffer, ElemType::I64, allocate(nnz * sizeof(int64_t)));
    if (cs.col_ptr_buffer >= 0) {
      Incoming in = incoming_synapses(csr, cs.n_post);
      place(cs.col_ptr_buffer, ElemType::I64, copy_block(in.col_ptr));
      place(cs.in_synapse_buffer, ElemType::I32, copy_block(in.synapse));
      place(cs.pre_of_buffer, ElemType::I32, copy_block(in.pre_of));
    }
    int64_t max_delay = cs.delay_steps;
    const int32_t *synapse_delays = nullptr;
    if (cs.delay_buffer >= 0) {
      std::vector<int32_t> d = draw_delays(cs, nnz, spec.dt, rng);
      for (int32_t x : d) max_delay = std::max<int64_t>(max_delay, x);
      place(cs.delay_buffer, ElemType::I32, copy_block(d));
      synapse_delays = static_cast<const int32_t *>(pointers_[cs.delay_buffer]);
    }
    ctx.delay_queues.emplace_back(max_delay);
    ctx.delay_steps.push_back(cs.delay_steps);
    ctx.delay_rows.push_back(static_cast<const int64_t *>(pointers_[cs.row_ptr_buffer]));
    ctx.synapse_delays.push_back(synapse_delays);
  }
  derived_.assign(std::max<int64_t>(spec.derived_count, 1), 0.0);
  result_.build_seconds = seconds(t0);
  auto t1 = std::chrono::steady_clock::now();
  setup();
  fns_.init(params_.data(), derived_.data(), pointers_.data(), ctx_.get());
  result_.run_seconds += seconds(t1);
}

SimInstance::~SimInstance() = default;

void SimInstance::FreeBlock::operator()(void *p) const {
  std::free(p);
}

void SimInstance::setup() {
  fns_.setup(params_.data(), derived_.data(), ctx_.get());
  for (double d : derived_)
    if (!std::isfinite(d))
      throw std::runtime_error(
          "the exact propagators are not finite: check that time constants are non-zero "
          "and the system is stable for this dt");
}

void SimInstance::run(int64_t first, int64_t count) {
  auto t0 = std::chrono::steady_clock::now();
  fns_.run(params_.data(), derived_.data(), pointers_.data(), ctx_.get(), first, count);
  check_spike_memory(*ctx_, spec_);
  result_.run_seconds += seconds(t0);
}

void SimInstance::set_param(int slot, double value) {
  params_.at(slot) = value;
  setup();
}

std::vector<double> &SimInstance::stimulus_rates(int source) {
  return ctx_->stimulus_rates.at(source);
}

void SimInstance::count_spikes(int32_t group, std::vector<int32_t> *counts) {
  ctx_->counts.at(group) = counts;
}

SimResult SimInstance::finish() {
  for (const ConnectivitySpec &cs : spec_.connections) {
    if (cs.synapse_buffers.empty()) continue;
    SynapseArrays arrays;
    arrays.connection = cs.name;
    const auto *row_ptr = static_cast<const int64_t *>(pointers_[cs.row_ptr_buffer]);
    arrays.row_ptr.assign(row_ptr, row_ptr + cs.n_pre + 1);
    const int64_t nnz = arrays.row_ptr.back();
    const auto *col = static_cast<const int32_t *>(pointers_[cs.col_buffer]);
    arrays.col.assign(col, col + nnz);
    for (int slot : cs.synapse_buffers) {
      std::string name = spec_.buffers[slot].name;
      if (name.rfind(cs.name + ".", 0) == 0) name = name.substr(cs.name.size() + 1);
      const auto *v = static_cast<const double *>(pointers_[slot]);
      arrays.vars.emplace_back(name, std::vector<double>(v, v + nnz));
    }
    result_.synapse_state.push_back(std::move(arrays));
  }
  return std::move(result_);
}

SimResult simulate(const SimSpec &spec, const std::vector<double> &params, const SimFunctions &fns,
                   const ProgressFn &progress) {
  SimInstance sim(spec, params, fns);
  // chunks of 1000 to 10000 steps: progress, and the recorded spikes checked, that often
  int64_t chunk = std::clamp<int64_t>(spec.steps / 100, 1000, 10000);
  for (int64_t done = 0; done < spec.steps;) {
    int64_t n = std::min(chunk, spec.steps - done);
    sim.run(done, n);
    done += n;
    if (progress) progress(done, spec.steps);
  }
  return sim.finish();
}

}  // namespace snnc::rt

using snnc::rt::Rng;

extern "C" double snnc_rt_uniform(snnc_rt_ctx *rt) {
  return rt->init_rng.uniform();
}
extern "C" double snnc_rt_normal(snnc_rt_ctx *rt) {
  return rt->init_rng.normal();
}

extern "C" void snnc_rt_delay_push(snnc_rt_ctx *rt, int32_t conn, int64_t step, const int32_t *idx,
                                   int64_t count) {
  snnc::rt::DelayQueue &q = rt->delay_queues[conn];
  const int32_t *delays = rt->synapse_delays[conn];
  if (!delays) {
    const int64_t arrival = step + rt->delay_steps[conn];
    for (int64_t k = 0; k < count; ++k) q.push(arrival, idx[k]);
    return;
  }
  const int64_t *row_ptr = rt->delay_rows[conn];
  for (int64_t k = 0; k < count; ++k)
    for (int64_t s = row_ptr[idx[k]]; s < row_ptr[idx[k] + 1]; ++s)
      q.push(step + delays[s], static_cast<int32_t>(s));
}

extern "C" int64_t snnc_rt_delay_take(snnc_rt_ctx *rt, int32_t conn, int64_t step,
                                      const int32_t **out) {
  const std::vector<int32_t> &arrivals = rt->delay_queues[conn].take(step);
  *out = arrivals.data();
  return static_cast<int64_t>(arrivals.size());
}

extern "C" int64_t snnc_rt_stimulus(snnc_rt_ctx *rt, int32_t source, double dt, int32_t *idx) {
  const std::vector<double> &rates = rt->stimulus_rates[source];
  Rng &rng = rt->stimulus_rng[source];
  int64_t count = 0;
  for (size_t j = 0; j < rates.size(); ++j)
    if (rates[j] > 0 && rng.uniform() < rates[j] * dt) idx[count++] = static_cast<int32_t>(j);
  return count;
}

extern "C" int64_t snnc_rt_poisson(snnc_rt_ctx *rt, int32_t source, double p, int32_t *idx) {
  if (!(p > 0)) return 0;
  p = std::fmin(p, 1.0);
  Rng &rng = rt->poisson_rng[source];
  int64_t size = rt->poisson_size[source];
  int64_t count = 0;
  for (int64_t j = rng.next_success(-1, p, size); j < size; j = rng.next_success(j, p, size))
    idx[count++] = static_cast<int32_t>(j);
  return count;
}

extern "C" void snnc_rt_spikes(snnc_rt_ctx *rt, int32_t pop, int64_t step, const int32_t *idx,
                               int64_t count) {
  snnc::rt::SimResult &r = *rt->result;
  r.spike_counts[pop] += count;
  if (std::vector<int32_t> *counts = rt->counts[pop])
    for (int64_t k = 0; k < count; ++k) ++(*counts)[idx[k]];
  for (const int64_t *row_ptr : rt->out_rows[pop])
    for (int64_t k = 0; k < count; ++k) r.synaptic_events += row_ptr[idx[k] + 1] - row_ptr[idx[k]];
  const auto &group = rt->spec->groups[pop];
  if (!group.record || rt->spike_overflow_at >= 0) return;
  auto &rec = r.spikes[pop];
  auto bytes = [&] { return 8.0 * rec.steps.capacity() + 4.0 * rec.neurons.capacity(); };
  double before = bytes();
  try {
    for (int64_t k = 0; k < count; ++k) {
      if (idx[k] < group.record_begin || (group.record_end >= 0 && idx[k] >= group.record_end))
        continue;
      rec.steps.push_back(step);
      rec.neurons.push_back(idx[k]);
    }
  } catch (const std::bad_alloc &) {  // generated code calls this: no exception may pass
    rt->spike_overflow_at = step;
  }
  rt->spike_bytes += bytes() - before;
  if (rt->spike_bytes > rt->spike_budget) rt->spike_overflow_at = step;
}

extern "C" void snnc_rt_trace(snnc_rt_ctx *rt, int32_t record, int64_t /*step*/,
                              const double *values) {
  const auto &neurons = rt->spec->traces[record].neurons;
  auto &out = rt->result->traces[record];
  for (int64_t n : neurons) out.push_back(values[n]);
}
