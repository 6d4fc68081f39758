// Simulate.cpp — Program::simulate: lower a simulation, run the pass pipeline, generate and
// JIT-compile LLVM IR (or the CUDA time loop), build the connectivity and run the steps.
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>

#include "CudaSimPrinter.h"
#include "CudaSimRun.h"
#include "LLVMCodeGen.h"
#include "LowerToIR.h"
#include "Optimize.h"
#include "Pass.h"
#include "ProgramImpl.h"
#include "ReceptiveFields.h"
#include "SampleProtocol.h"
#include "SimJIT.h"
#include "SimLayout.h"
#include "Simulation.h"

namespace snnc {

namespace {

struct RunRecord {
  rt::SimSpec spec;
  rt::SimResult result;
  std::vector<int64_t> sample_shape;  ///< a protocol's images
  std::string fields;                 ///< the connection whose receptive fields are drawn
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

SimulationResult Program::simulate(const SimulationOptions &o) const {
  if (o.target != "cpu" && o.target != "cuda")
    throw std::runtime_error("unknown target '" + o.target + "' (cpu or cuda)");
  auto t0 = std::chrono::steady_clock::now();
  DiagnosticEngine diags = driver::quiet_diagnostics(*impl_);
  auto module = frontend::lower_simulation(impl_->file, o.simulation, diags);
  if (!module || !ir::run_pipeline(*module, diags, ir::default_pipeline()))
    throw CompileError(driver::render_all(diags));
  backends::SimLayout layout = backends::make_layout(*module);
  std::map<std::string, double> overrides;
  for (const auto &s : o.set) {
    auto [name, value] = backends::parse_override(layout, s);
    overrides[name] = value;
  }
  std::vector<double> params = backends::evaluate_params(layout, overrides);
  if (o.seed >= 0) module->seed = static_cast<uint64_t>(o.seed);
  auto record = std::make_shared<RunRecord>();
  record->spec = backends::make_sim_spec(*module, layout, params);
  const rt::SimSpec &spec = record->spec;

  auto context = std::make_unique<llvm::LLVMContext>();
  auto llvm_module = backends::generate_llvm(*module, layout, *context);
  auto tm = backends::host_target_machine();
  backends::optimize_module(*llvm_module, *tm, /*vector_math=*/true);
  backends::SimJIT jit(std::move(llvm_module), std::move(context));
  // target cuda: set-up and initial values from the JIT on the host, the time loop on the
  // GPU from the CUDA backend's source
  std::unique_ptr<driver::CudaSimulation> cuda;
  rt::SimFunctions functions = jit.functions();
  if (o.target == "cuda") {
    cuda = std::make_unique<driver::CudaSimulation>(
        backends::print_cuda_simulation(*module, layout, impl_->buffer->name()), spec);
    functions = cuda->functions(functions, static_cast<int64_t>(params.size()));
  }
  SimulationResult r;
  r.compile_seconds = seconds_since(t0);
  if (module->protocol) {
    if (cuda) throw std::runtime_error("a simulation with a protocol runs on the CPU only");
    rt::ProtocolSpec protocol = backends::make_protocol_spec(*module, layout, params, spec);
    rt::SimInstance sim(spec, params, functions);
    rt::ProtocolProgressFn progress;
    if (o.on_sample)
      progress = [&](const char *phase, int64_t done, int64_t total) {
        o.on_sample(phase, done, total);
      };
    rt::ProtocolResult p = rt::run_protocol(sim, spec, protocol, progress);
    record->result = sim.finish();
    record->spec.steps = p.steps;
    r.has_protocol = true;
    ProtocolOutcome &out = r.protocol;
    out.learned = p.learned;
    out.assigned = p.assigned;
    out.tested = p.tested;
    out.correct = p.correct;
    out.repetitions = p.repetitions;
    out.silent = p.silent;
    out.accuracy = p.accuracy();
    out.input_accuracy = p.input_accuracy;
    out.readout = module->protocol->linear_readout ? "linear" : "vote";
    out.learn_seconds = p.learn_seconds;
    out.assign_seconds = p.assign_seconds;
    out.test_seconds = p.test_seconds;
    out.assignment = std::move(p.assignment);
    out.predictions = std::move(p.predictions);
    out.labels = std::move(p.labels);
    out.sample_shape = p.sample_shape;
    out.normalised = module->protocol->normalise;
    record->sample_shape = p.sample_shape;
    record->fields = module->protocol->normalise;
  } else {
    record->result = rt::simulate(spec, params, functions,
                                  o.on_progress ? rt::ProgressFn(o.on_progress) : rt::ProgressFn());
  }
  const rt::SimResult &result = record->result;
  r.simulation = module->name;
  r.dt = spec.dt;
  r.steps = spec.steps;
  r.seed = spec.seed;
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    SpikeGroup group;
    group.name = spec.groups[g].name;
    group.size = spec.groups[g].size;
    group.population = module->find_population(group.name) != nullptr;
    group.spike_count = result.spike_counts[g];
    if (g < result.spikes.size()) {
      group.spike_steps = result.spikes[g].steps;
      group.spike_neurons = result.spikes[g].neurons;
    }
    r.groups.push_back(std::move(group));
  }
  for (size_t i = 0; i < spec.traces.size(); ++i)
    r.traces.push_back({spec.traces[i].group, spec.traces[i].var, spec.traces[i].neurons,
                        i < result.traces.size() ? result.traces[i] : std::vector<double>{}});
  for (const rt::SynapseArrays &a : result.synapse_state) {
    SynapseState st;
    st.connection = a.connection;
    for (size_t i = 0; i + 1 < a.row_ptr.size(); ++i)
      for (int64_t k = a.row_ptr[i]; k < a.row_ptr[i + 1]; ++k)
        st.pre.push_back(static_cast<int32_t>(i));
    st.post = a.col;
    for (const auto &[name, values] : a.vars) st.variables[name] = values;
    r.plastic.push_back(std::move(st));
  }
  r.synapses = result.synapses;
  r.synaptic_events = result.synaptic_events;
  r.connectivity_seconds = result.build_seconds;
  r.run_seconds = result.run_seconds;
  r.compiler = cuda ? cuda->compiler() : "llvm";
  r.spec_ = record;
  return r;
}

void SimulationResult::write_outputs(const std::string &dir) const {
  if (!spec_) throw std::runtime_error("this result holds no simulation to write");
  const auto &record = *static_cast<const RunRecord *>(spec_.get());
  rt::write_sim_outputs(record.spec, record.result, dir);
  if (!record.fields.empty())
    rt::write_receptive_fields(record.result, record.fields, record.sample_shape,
                               dir + "/receptive_fields.png");
}

}  // namespace snnc
