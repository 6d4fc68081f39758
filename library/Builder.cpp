// Builder.cpp — Program::build: a trained experiment model as a standalone executable (the
// plan and weights embedded in an ahead-of-time LLVM object, linked with the runtime's
// inference main), for the CPU or, through nvcc, the GPU.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "CudaCellPrinter.h"
#include "CudaExpr.h"
#include "CudaLibrary.h"
#include "CudaTarget.h"
#include "InferLibs.h"
#include "LowerExperiment.h"
#include "ModelPlan.h"
#include "ObjectEmitter.h"
#include "ProgramImpl.h"
#include "SparseLinear.h"
#include "TrainingSpecs.h"
#include "passes/PlanSynapses.h"
#include "train/Safetensors.h"

namespace snnc::driver {
namespace {

/// Checks the checkpoint has every parameter of the model with the right shape.
void check_weights(const ir::Model &m, const std::vector<rt::NamedTensor> &tensors,
                   const std::string &path) {
  for (const auto &l : m.layers) {
    if (l.kind != ir::Layer::Linear && l.kind != ir::Layer::Conv2d) continue;
    const auto &in = m.layers[l.input].shape;
    int64_t in_features = 1;
    for (int64_t d : in) in_features *= d;
    std::vector<int64_t> w = l.kind == ir::Layer::Linear
                                 ? std::vector<int64_t>{l.out_features, in_features}
                                 : std::vector<int64_t>{l.channels, in[0], l.kernel, l.kernel};
    std::vector<int64_t> b = {l.kind == ir::Layer::Linear ? l.out_features : l.channels};
    for (const auto &[suffix, shape] : {std::pair{".weight", w}, std::pair{".bias", b}}) {
      std::string name = l.name + suffix;
      auto it = std::find_if(tensors.begin(), tensors.end(),
                             [&](const rt::NamedTensor &t) { return t.name == name; });
      if (it == tensors.end())
        throw std::runtime_error(path + ": no tensor '" + name + "' for network '" + m.name + "'");
      if (it->shape != shape)
        throw std::runtime_error(path + ": tensor '" + name +
                                 "' has the wrong shape for network '" + m.name + "'");
    }
  }
}

/// The model's CUDA cells with a table of their launchers by cell name (what the GPU
/// inference main looks up).
std::string device_cells_source(const ir::Model &model, const std::string &file) {
  std::string s = backends::print_cuda_cells({{&model, ""}}, file);
  s += "// the launchers by cell name, for the inference main (the table's type: DeviceNetwork.h)\n"
       "#include \"DeviceNetwork.h\"\n"
       "extern \"C\" {\n"
       "extern const snnc_device_cell_entry snnc_model_device_cells[] = {\n";
  for (const auto &c : model.cells) {
    const std::string id = backends::cuda_ident(c.name);
    s +=
        "    {\"" + c.name + "\", snnc_cuda_cell_fwd_" + id + ", snnc_cuda_cell_bwd_" + id + "},\n";
  }
  s += "};\nextern const int64_t snnc_model_device_cell_count = " +
       std::to_string(model.cells.size()) + ";\n}\n";
  return s;
}

/// Links a GPU binary: the model object (plan, weights), the device executor and the cells
/// compiled by nvcc for sm_80 and sm_90 (plus PTX for later GPUs), or by the host compiler
/// against the CUDA shim under SNNC_CUDA_SHIM=1. Returns the command's exit code.
int link_device_binary(const ir::Model &model, const std::string &file, const std::string &object,
                       const std::string &output, std::string &command) {
  const CudaSourceDir dir(device_executor_files(device_cells_source(model, file)));
  const CudaCompiler cc = cuda_compiler(false,
                                        "-gencode arch=compute_80,code=sm_80 -gencode "
                                        "'arch=compute_90,code=[sm_90,compute_90]'");
  std::string libs;
  std::stringstream list(SNNC_INFER_DEVICE_LIBS);
  for (std::string lib; std::getline(list, lib, ';');) libs += " " + shell_quote(lib);
  command = cc.command + " -I" + shell_quote(dir.dir()) +
            cc.sources({dir.path("device.cu"), dir.path("cells.cu")}) + " " + shell_quote(object) +
            cc.linker("--start-group") + libs + cc.linker("--end-group") + cc.library("cublas") +
            " -lpng16 -lopenblas -lz -lpthread -lm -o " + shell_quote(output);
  return std::system(command.c_str());
}

/// Magnitude pruning for inference: in every linear layer but the last (the readout), the
/// `fraction` of weights smallest in magnitude become zero (ties: lower index first); the
/// layer is then sparse, planned as `linear(N, sparsity = ...)` (compressed past the
/// crossover). Returns the new checkpoint bytes.
std::string prune_weights(ir::Model &model, std::vector<rt::NamedTensor> &tensors, double fraction,
                          const std::function<void(const std::string &)> &log) {
  const int readout = ir::readout_layer(model);
  for (size_t i = 0; i < model.layers.size(); ++i) {
    ir::Layer &l = model.layers[i];
    if (l.kind != ir::Layer::Linear || static_cast<int>(i) == readout) continue;
    auto t = std::find_if(tensors.begin(), tensors.end(),
                          [&](const rt::NamedTensor &x) { return x.name == l.name + ".weight"; });
    if (t == tensors.end()) throw std::runtime_error("no tensor '" + l.name + ".weight' to prune");
    std::vector<float> &w = t->data;
    int64_t zeros = 0;
    try {
      zeros = rt::nn::prune_smallest(w, fraction);
    } catch (const std::exception &e) {
      throw std::runtime_error("tensor '" + t->name + "': " + e.what());
    }
    l.sparsity = static_cast<double>(zeros) / static_cast<double>(w.size());
    if (log)
      log("snnc: pruned " + l.name + ": " + std::to_string(zeros) + " of " +
          std::to_string(w.size()) + " weights are zero\n");
  }
  int pruned = 0;
  for (const auto &l : model.layers) pruned += l.kind == ir::Layer::Linear && l.sparsity > 0;
  if (pruned == 0 && log)
    log("snnc: --prune: no hidden linear layer to prune (the last linear layer, the readout, is "
        "kept dense)\n");
  ir::plan_synapses(model);
  return rt::safetensors_bytes(tensors, {{"snnc_network", model.name}}, "the pruned weights");
}

}  // namespace

}  // namespace snnc::driver

namespace snnc {

BuildResult Program::build(const BuildOptions &o) const {
  DiagnosticEngine diags = driver::quiet_diagnostics(*impl_);
  auto spec = frontend::lower_experiment(impl_->file, o.experiment, diags);
  if (!spec) throw CompileError(driver::render_all(diags));
  using namespace driver;
  auto [chosen, t] = ir::choose(*spec, o.compare);
  ir::Model model = chosen;
  ir::Layer::Synapse forced;  // (as `snnc run --synapse` ran it: the same kernels, the same sums)
  if (ir::synapse_from_name(o.synapse, &forced))
    for (auto &l : model.layers)
      if (l.kind == ir::Layer::Linear || l.kind == ir::Layer::Conv2d) l.synapse = forced;
  if (o.prune < 0 || o.prune >= 1)
    throw std::runtime_error("--prune needs a fraction in [0, 1), not " + std::to_string(o.prune));
  std::ifstream in(o.weights, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read weights '" + o.weights + "'");
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string weights = bytes.str();
  std::map<std::string, std::string> meta;
  auto tensors = rt::parse_safetensors(weights, o.weights, &meta);  // validate before embedding
  if (!meta["snnc_network"].empty() && meta["snnc_network"] != model.name)
    throw std::runtime_error(o.weights + " holds weights of network '" + meta["snnc_network"] +
                             "', not '" + model.name + "'");
  check_weights(model, tensors, o.weights);
  if (o.prune > 0) weights = prune_weights(model, tensors, o.prune, o.on_log);
  std::string object = o.output + ".tmp." + std::to_string(getpid()) + ".o";
  RemovedAtExit remove_object(object);
  const bool gpu = o.target == "cuda";  // the object then holds plan and weights for the
  backends::emit_model_object(model,
                              rt::nn::plan_to_json(backends::plan_model(model, t, spec->seed)),
                              weights, object, gpu ? "x86-64" : o.target);  // GPU main
  BuildResult result;
  result.output = o.output;
  result.network = model.name;
  result.tensors = static_cast<int64_t>(tensors.size());
  if (gpu) {
    std::string cmd;
    int rc = link_device_binary(model, impl_->buffer->name(), object, o.output, cmd);
    if (rc != 0) throw std::runtime_error("building the GPU binary failed (" + cmd + ")");
    result.target = std::string("CUDA ") + (cuda_shim_requested() ? "host shim" : "sm_80/sm_90");
    return result;
  }
  std::string cmd =
      "c++ -o " + shell_quote(o.output) + " " + shell_quote(object) + " -Wl,--start-group";
  std::stringstream libs(SNNC_INFER_LIBS);
  for (std::string lib; std::getline(libs, lib, ';');) cmd += " " + shell_quote(lib);
  cmd += " -Wl,--end-group -lpng16 -lopenblas -lz -lpthread -lm";
  int rc = std::system(cmd.c_str());
  if (rc != 0) throw std::runtime_error("linking failed (" + cmd + ")");
  result.target = "CPU " + o.target;
  return result;
}

}  // namespace snnc
