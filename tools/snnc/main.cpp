// main.cpp — the snnc command line: check, emit, opt, run.
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <new>
#include <optional>

#include "BlasCore.h"
#include "BuildCommand.h"
#include "CellCodeGen.h"
#include "CudaCellPrinter.h"
#include "CudaSimPrinter.h"
#include "CudaSimRun.h"
#include "CudaTarget.h"
#include "Driver.h"
#include "IRParser.h"
#include "IRPrinter.h"
#include "LLVMCodeGen.h"
#include "LowerExperiment.h"
#include "LowerModel.h"
#include "LowerToIR.h"
#include "ModelParser.h"
#include "ModelPass.h"
#include "ModelVerifier.h"
#include "Optimize.h"
#include "Pass.h"
#include "RunCommand.h"
#include "SimLayout.h"
#include "TraceCommand.h"
#include "TrainCommand.h"
#include "Verifier.h"

using namespace snnc;

namespace {

int cmd_check(const std::string &path) {
  auto buffer = driver::read_source(path);
  if (!buffer) return 1;
  DiagnosticEngine diags(buffer);
  return driver::load_checked(*buffer, diags) ? 0 : 1;
}

struct EmitOptions {
  std::string file, sim;
  bool ast = false, ir = false, ir_opt = false, ir_grad = false, llvm = false, cuda = false,
       no_llvm_opt = false, after_all = false;
};

/// An experiment's model and twin, as lowered or after the model pipeline.
std::vector<ir::Model> experiment_models(const ast::File &file, DiagnosticEngine &diags,
                                         const std::string &name, bool run_model_passes) {
  auto spec = frontend::lower_experiment(file, name, diags, run_model_passes);
  if (!spec) return {};
  std::vector<ir::Model> models{spec->model};
  if (spec->compare) models.push_back(*spec->compare);
  return models;
}

/// The trainable models of a file as lowered, before any model pass: the experiment's
/// model and twin, or, without an experiment, every layer network with its default
/// arguments. Empty (with a diagnostic) on error.
std::vector<ir::Model> lowered_models(const ast::File &file, const SourceBuffer &buffer,
                                      DiagnosticEngine &diags, const std::string &name) {
  if (!file.experiments.empty()) return experiment_models(file, diags, name, false);
  std::vector<ir::Model> models;
  for (const auto &net : file.networks) {
    if (net.layers.empty()) continue;
    auto model = frontend::lower_model(file, net.name, {}, diags, net.loc);
    if (!model) return {};
    models.push_back(std::move(*model));
  }
  if (models.empty() && !diags.has_errors())
    std::cerr << "snnc: error: '" << buffer.name()
              << "' has no layer network or experiment to differentiate\n";
  return models;
}

/// The models of lowered_models after the default model pipeline (autodiff,
/// fuse-conv-pool, plan-synapses); `after` (if set) sees each model after each pass.
std::vector<ir::Model> differentiated_models(
    const ast::File &file, const SourceBuffer &buffer, DiagnosticEngine &diags,
    const std::string &name,
    const std::function<void(const std::string &, const ir::Model &)> &after = {}) {
  // an experiment went through the pipeline when the file was checked
  if (!file.experiments.empty() && !after) return experiment_models(file, diags, name, true);
  auto models = lowered_models(file, buffer, diags, name);
  for (auto &m : models)
    if (!ir::run_model_pipeline(m, diags, ir::default_model_pipeline(), after)) return {};
  return models;
}

/// `snnc emit --ir / --ir-opt / --ir-grad` of a file of trainable models: their model IR
/// as lowered, or after the model pipeline (with --print-after-all, after every pass).
int emit_models(const ast::File &file, const SourceBuffer &buffer, DiagnosticEngine &diags,
                const EmitOptions &o) {
  if (o.ir) {
    auto models = lowered_models(file, buffer, diags, o.sim);
    for (const auto &m : models) std::cout << ir::print(m);
    return models.empty() ? 1 : 0;
  }
  auto dump = [&](const std::string &pass, const ir::Model &m) {
    if (o.after_all) std::cout << "// ----- after " << pass << " -----\n" << ir::print(m);
  };
  auto models = differentiated_models(file, buffer, diags, o.sim, dump);
  if (!o.after_all)
    for (const auto &m : models) std::cout << ir::print(m);
  return models.empty() ? 1 : 0;
}

int emit_grad(const SourceBuffer &buffer, DiagnosticEngine &diags, const EmitOptions &o) {
  auto file = driver::load_checked(buffer, diags);
  if (!file) return 1;
  return emit_models(*file, buffer, diags, o);
}

/// `snnc emit --cuda` of a file without a simulation: the cell kernels of its models.
int emit_cuda_models(const ast::File &file, const SourceBuffer &buffer, DiagnosticEngine &diags,
                     const std::string &name) {
  auto models = differentiated_models(file, buffer, diags, name);
  try {
    // symbol prefixes: an experiment's twin gets compare_; several networks, their names
    std::vector<backends::CudaCellModel> list;
    const bool experiment = !file.experiments.empty();
    for (size_t i = 0; i < models.size(); ++i) {
      std::string prefix = experiment ? (i == 0 ? "" : "compare_")
                                      : (models.size() == 1 ? "" : models[i].name + "_");
      list.push_back({&models[i], prefix});
    }
    if (!models.empty()) std::cout << backends::print_cuda_cells(list, buffer.name());
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
  return models.empty() ? 1 : 0;
}

/// The text `snnc emit --llvm` prints for a module: after O3 for the host CPU, or as
/// generated (--no-llvm-opt) with the host's triple and data layout.
std::string llvm_text(llvm::Module &module, bool optimize) {
  auto tm = backends::host_target_machine();
  if (optimize) {
    backends::optimize_module(module, *tm);
  } else {
    module.setTargetTriple(tm->getTargetTriple().str());
    module.setDataLayout(tm->createDataLayout());
  }
  return backends::to_text(module);
}

/// `snnc emit --llvm` of a file without a simulation: the cell scan kernels of its models
/// (after O3 for the host CPU unless --no-llvm-opt), one LLVM module per model.
int emit_llvm_models(const ast::File &file, const SourceBuffer &buffer, DiagnosticEngine &diags,
                     const std::string &name, bool optimize) {
  auto models = differentiated_models(file, buffer, diags, name);
  try {
    for (const auto &m : models) {
      llvm::LLVMContext context;
      llvm::Module module("snnc.model." + m.name, context);
      backends::generate_cell_kernels(m, module);
      std::cout << llvm_text(module, optimize);
    }
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
  return models.empty() ? 1 : 0;
}

int cmd_emit(const EmitOptions &o) {
  auto buffer = driver::read_source(o.file);
  if (!buffer) return 1;
  DiagnosticEngine diags(buffer);
  if (o.ast) {
    auto file = driver::load_checked(*buffer, diags);
    if (!file) return 1;
    std::cout << ast::print(*file);
    return 0;
  }
  if (o.ir_grad) return emit_grad(*buffer, diags, o);
  std::optional<ir::Module> module;
  if (o.ir || o.ir_opt) {  // a file of trainable models (no simulation): their model IR
    auto file = driver::load_checked(*buffer, diags);
    if (!file) return 1;
    bool layers = !file->experiments.empty();
    for (const auto &net : file->networks) layers |= !net.layers.empty();
    if (file->simulations.empty() && layers) return emit_models(*file, *buffer, diags, o);
    module = frontend::lower_simulation(*file, o.sim, diags);
  } else {
    if (o.cuda || o.llvm) {  // a file of trainable models (no simulation): their cell kernels
      auto file = driver::load_checked(*buffer, diags);
      if (!file) return 1;
      if (file->simulations.empty() && (!file->experiments.empty() || !file->networks.empty()))
        return o.cuda ? emit_cuda_models(*file, *buffer, diags, o.sim)
                      : emit_llvm_models(*file, *buffer, diags, o.sim, !o.no_llvm_opt);
    }
    module = driver::load_module(*buffer, diags, o.sim);
  }
  if (!module) return 1;
  if (o.ir) {
    std::cout << ir::print(*module);
    return 0;
  }
  auto dump = [&](const std::string &pass, const ir::Module &m) {
    if (o.after_all) std::cout << "// ----- after " << pass << " -----\n" << ir::print(m);
  };
  if (!ir::run_pipeline(*module, diags, ir::default_pipeline(), dump)) return 1;
  if (o.ir_opt) {
    if (!o.after_all) std::cout << ir::print(*module);
    return 0;
  }
  try {
    auto layout = backends::make_layout(*module);
    if (o.cuda) {
      std::cout << backends::print_cuda_simulation(*module, layout, o.file);
      return 0;
    }
    llvm::LLVMContext context;
    auto llvm_module = backends::generate_llvm(*module, layout, context);
    std::cout << llvm_text(*llvm_module, !o.no_llvm_opt);
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

/// "unknown pass" for a name that is none of `names`; a pass of the other IR says so.
void unknown_pass(const std::string &pass, const std::vector<std::string> &names,
                  const std::string &path, bool model_file) {
  std::cerr << "snnc: error: unknown " << (model_file ? "model pass '" : "pass '") << pass << "'"
            << did_you_mean(pass, names);
  if (model_file ? ir::find_pass(pass) != nullptr : ir::find_model_pass(pass) != nullptr)
    std::cerr << " ('" << pass << "' is a " << (model_file ? "simulation" : "model")
              << " IR pass; '" << path << "' holds " << (model_file ? "model" : "simulation")
              << " IR)";
  std::cerr << "\n";
}

/// `snnc opt` on model IR (`model NAME { ... }`, one or more): parse, verify, run the
/// model passes on each model, print.
int opt_models(const SourceBuffer &buffer, DiagnosticEngine &diags,
               const std::vector<std::string> &passes) {
  auto models = ir::parse_models(buffer, diags);
  if (!models) return 1;
  for (const auto &m : *models)
    if (!ir::verify(m, diags)) return 1;
  for (const auto &p : passes)
    if (!ir::find_model_pass(p)) {
      std::vector<std::string> names;
      for (const auto &info : ir::all_model_passes()) names.push_back(info.name);
      unknown_pass(p, names, buffer.name(), true);
      return 1;
    }
  for (auto &m : *models)
    if (!ir::run_model_pipeline(m, diags, passes)) return 1;
  for (const auto &m : *models) std::cout << ir::print(m);
  return 0;
}

/// `snnc opt FILE`: simulation IR (`module NAME { ... }`) or model IR (`model NAME { ... }`),
/// told apart by the first word.
int cmd_opt(const std::string &path, const std::vector<std::string> &passes) {
  auto buffer = driver::read_source(path);
  if (!buffer) return 1;
  DiagnosticEngine diags(buffer);
  if (ir::is_model_text(buffer->text())) return opt_models(*buffer, diags, passes);
  auto module = ir::parse_module(*buffer, diags);
  if (!module) return 1;
  if (!ir::verify(*module, diags)) return 1;
  for (const auto &p : passes)
    if (!ir::find_pass(p)) {
      std::vector<std::string> names;
      for (const auto &info : ir::all_passes()) names.push_back(info.name);
      unknown_pass(p, names, path, false);
      return 1;
    }
  if (!ir::run_pipeline(*module, diags, passes)) return 1;
  std::cout << ir::print(*module);
  return 0;
}

std::string pass_list() {
  std::string s = "Passes (in default pipeline order):\n";
  for (const auto &p : ir::all_passes()) s += "  " + std::string(p.name) + ": " + p.summary + "\n";
  s += "Model passes (on model IR, `model NAME { ... }`; in default pipeline order):\n";
  for (const auto &p : ir::all_model_passes())
    s += "  " + std::string(p.name) + ": " + p.summary + "\n";
  return s;
}

/// A flag's number: `positive` (> 0) or not negative (>= 0), with a plain message otherwise
/// (CLI11's own range check prints the largest double as its bound).
CLI::Validator number_at_least_zero(bool positive) {
  const std::string want = positive ? "a number above 0" : "a number, 0 or more";
  return CLI::Validator(
      [positive, want](std::string &text) -> std::string {
        try {
          size_t used = 0;
          const double v = std::stod(text, &used);
          if (used == text.size() && (positive ? v > 0 : v >= 0)) return "";
        } catch (const std::exception &) {
        }
        return "expected " + want + ", got '" + text + "'";
      },
      positive ? "POSITIVE" : "NONNEGATIVE");
}

/// The file compiled into a Program, its warnings printed; nullopt (errors printed) when it
/// does not compile.
std::optional<Program> load_program(const std::string &path) {
  try {
    Program program = Program::compile_file(path);
    for (const auto &w : program.warnings()) std::cerr << w;
    return program;
  } catch (const CompileError &e) {
    std::cerr << e.what();
  } catch (const std::runtime_error &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char **argv) {
  snnc::rt::nn::reexec_for_blas_core(
      argv);  // before OpenBLAS runs anything: its kernels for this CPU
  CLI::App app{
      "snnc — a compiler for spiking neural networks.\n"
      "Compiles .snn model files (neurons, networks, simulations) through an IR and LLVM."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "snnc 0.1 (LLVM 19)");

  std::string check_file;
  auto *check = app.add_subcommand(
      "check", "Parse and check a .snn file; print nothing and exit 0 when it is valid");
  check->add_option("file", check_file, "The .snn file")->required();

  EmitOptions emit_opts;
  auto *emit = app.add_subcommand("emit", "Print one stage of the compilation of a .snn file");
  emit->add_option("file", emit_opts.file, "The .snn file")->required();
  auto *g = emit->add_option_group("stage", "What to print (exactly one)");
  g->add_flag("--ast", emit_opts.ast, "The syntax tree as parsed");
  g->add_flag("--ir", emit_opts.ir,
              "The IR of the simulation, or of a model file's trainable models (model IR), "
              "before any pass");
  g->add_flag("--ir-opt", emit_opts.ir_opt,
              "The IR after the default pass pipeline (model IR: autodiff, fuse-conv-pool, "
              "plan-synapses)");
  g->add_flag("--ir-grad", emit_opts.ir_grad,
              "The trainable models (layer networks) after the model pipeline: each cell's "
              "forward recurrence and its derived backward step");
  g->add_flag("--cuda", emit_opts.cuda,
              "The CUDA C++ source of the simulation (kernels and host time loop)");
  g->add_flag("--llvm", emit_opts.llvm,
              "The LLVM IR of the simulation, or of a model file's cell scan kernels (after O3 "
              "unless --no-llvm-opt)");
  g->require_option(1);
  emit->add_flag("--no-llvm-opt", emit_opts.no_llvm_opt,
                 "With --llvm: print LLVM IR before optimization");
  emit->add_flag("--print-after-all", emit_opts.after_all,
                 "With --ir-opt: print the IR after every pass");
  emit->add_option(
      "--sim", emit_opts.sim,
      "The `simulation` or `experiment` block to use (default: the first in the file)");

  std::string opt_file;
  std::vector<std::string> opt_passes;
  auto *opt = app.add_subcommand("opt", "Run IR passes on a textual IR file and print the result");
  opt->add_option("file", opt_file,
                  "A textual IR file (as printed by 'snnc emit --ir'): simulation IR "
                  "(`module ...`) or model IR (`model ...`)")
      ->required();
  opt->add_option("--pass", opt_passes,
                  "A pass to run; repeat to run several in order (none: parse, verify and print)")
      ->allow_extra_args(false);
  opt->footer(pass_list());

  driver::RunOptions run_opts;
  snnc::TrainOptions train_opts;
  bool no_progress = false;
  auto *run =
      app.add_subcommand("run",
                         "JIT-compile and run a .snn file: simulate a `simulation` block, or "
                         "train and evaluate an `experiment` (its model and ANN twin)");
  run->footer(
      "A file with experiments runs its first experiment, one without runs its first simulation; "
      "--sim picks either kind by name. Simulations write spikes.csv, traces.csv, raster.svg and "
      "summary.json into --out. Experiments write a run directory (default "
      "out/<experiment>/run-<date>-<time>) with committed checkpoints (checkpoints/), the latest "
      "weights (model.safetensors, compare.safetensors), predictions, summary.json, results.md "
      "and report.html; --resume DIR continues an interrupted run.");
  run->add_option("file", run_opts.file, "The .snn file")->required();
  run->add_option("--set", run_opts.sets,
                  "Change a run-time parameter without recompiling: NAME=VALUE with a unit, e.g. "
                  "E.tau_m=25ms, cuba.duration=2s (repeatable)")
      ->allow_extra_args(false);
  run->add_option(
      "--out", run_opts.out_dir,
      "Directory for spikes.csv, traces.csv, raster.svg, summary.json (default: out/<simulation>)");
  run->add_option("--summary-json", run_opts.summary_json,
                  "Where to write the summary JSON (default: <out>/summary.json)");
  run->add_option("--sim", run_opts.sim,
                  "The `simulation` or `experiment` block to use (default: the first in the file)");
  run->add_option("--data", train_opts.data_dir,
                  "Experiments: the data set directory (IDX files, raw or .gz)");
  run->add_option("--epochs", train_opts.epochs,
                  "Experiments: number of epochs (default: the file's)")
      ->check(number_at_least_zero(true));
  run->add_option("--limit", train_opts.train_limit,
                  "Experiments: train on the first N samples only")
      ->check(number_at_least_zero(true));
  run->add_option("--test-limit", train_opts.test_limit,
                  "Experiments: evaluate on the first N test samples only")
      ->check(number_at_least_zero(true));
  run->add_option("--synapse", train_opts.synapse,
                  "Training: propagate every linear/conv layer densely, by events, or choose per "
                  "pass from the input density (auto, dense, event; default: as the file says)")
      ->check(CLI::IsMember({"auto", "dense", "event"}));
  run->add_option("--micro-batch", train_opts.micro_batch,
                  "Training: run forward and backward on this many samples at a time and sum "
                  "their gradients (same loss and update up to float rounding; activation "
                  "memory for this many samples only; default: the whole batch)")
      ->check(number_at_least_zero(false));
  run->add_option(
         "--segment-steps", train_opts.segment_steps,
         "Training: back-propagate through time in segments of this many steps, "
         "keeping only the neuron states at segment boundaries and rerunning each "
         "segment's forward pass before its backward pass (gradient checkpointing "
         "over time: memory for this many steps instead of all, for one more forward "
         "pass; without dropout the same gradients up to float rounding, with dropout masks "
         "drawn per segment; default: 0, the whole sequence)")
      ->check(number_at_least_zero(false));
  run->add_option("--prune", train_opts.prune,
                  "Training: after --prune-after epochs, zero this fraction of the smallest "
                  "weights of each hidden linear layer and train the kept connections only")
      ->check(CLI::Range(0.0, 0.999999));
  run->add_option("--prune-after", train_opts.prune_after,
                  "Training: epochs before --prune (default: half of them)")
      ->check(number_at_least_zero(false));
  run->add_flag("--no-compare", train_opts.no_compare,
                "Experiments: do not train the `compare` twin");
  run->add_option("--resume", train_opts.resume_dir,
                  "Experiments: continue the run in DIR from its last committed checkpoint "
                  "(DIR/checkpoints/), refusing settings that differ from the run's");
  run->add_flag("--force", train_opts.force,
                "Experiments: with --resume, continue even where the settings differ "
                "(summary.json lists the changes)");
  run->add_option("--seed", run_opts.seed,
                  "Seed for connectivity, initial values and Poisson draws (default: the file's)")
      ->check(number_at_least_zero(false));
  run->add_flag("--quiet", run_opts.quiet, "Print nothing on success");
  std::string run_target = "cpu";
  run->add_option(
         "--target", run_target,
         "Where to run: cpu (default, LLVM JIT) or cuda (needs the CUDA toolkit and a GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  run->add_flag("--no-progress", no_progress, "No progress bar on stderr");

  driver::TraceOptions trace_opts;
  auto *trace = app.add_subcommand(
      "trace", "Run one input through an experiment's trained model and print each step");
  trace->add_option("file", trace_opts.file, "The .snn file with the experiment")->required();
  trace
      ->add_option("--weights", trace_opts.weights,
                   "A safetensors checkpoint (e.g. out/<experiment>/model.safetensors)")
      ->required();
  trace
      ->add_option("--input", trace_opts.input,
                   "An IDX image file (raw or .gz), e.g. data/mnist/t10k-images-idx3-ubyte")
      ->required();
  trace->add_option("--index", trace_opts.index, "Which image of the file (default 0)")
      ->check(number_at_least_zero(false));
  trace
      ->add_option("--label", trace_opts.label,
                   "Its class: also compute the loss and the gradients")
      ->check(number_at_least_zero(false));
  trace->add_option("--steps", trace_opts.steps, "Time steps (default: the experiment's)")
      ->check(number_at_least_zero(true));
  trace->add_option("--out", trace_opts.out,
                    "Write every spike, state, the loss and the gradients to this JSON file");
  trace->add_option(
      "--sim", trace_opts.experiment,
      "The `simulation` or `experiment` block to use (default: the first in the file)");
  trace->add_flag("--compare", trace_opts.compare, "Trace the experiment's `compare` twin");

  snnc::BuildOptions build_opts;
  std::string build_file;
  auto *build = app.add_subcommand(
      "build", "Compile an experiment's trained model into a standalone inference executable");
  build->add_option("file", build_file, "The .snn file with the experiment")->required();
  build
      ->add_option("--weights", build_opts.weights,
                   "The trained weights (safetensors), embedded in the binary")
      ->required();
  build->add_option("-o,--output", build_opts.output, "The executable to write")->required();
  build->add_option("--target", build_opts.target,
                    "CPU to compile for: native (default) or an LLVM CPU name, e.g. x86-64-v3; "
                    "or cuda: a GPU binary (needs the CUDA toolkit to build, a GPU to run)");
  build->add_option(
      "--sim", build_opts.experiment,
      "The `simulation` or `experiment` block to use (default: the first in the file)");
  build->add_flag("--compare", build_opts.compare, "Build the experiment's `compare` twin");
  build
      ->add_option("--synapse", build_opts.synapse,
                   "Propagate every linear/conv layer densely, by events, or choose per batch from "
                   "the input density (auto, dense, event; default: as the file says), as "
                   "`snnc run --synapse` does")
      ->check(CLI::IsMember({"auto", "dense", "event"}));
  build
      ->add_option("--prune", build_opts.prune,
                   "Magnitude pruning: zero this fraction of the smallest weights of each "
                   "hidden linear layer and compute those layers sparse (e.g. 0.95)")
      ->check(CLI::Range(0.0, 0.999999));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e);
    return 2;
  }
  try {
    if (*check) return cmd_check(check_file);
    if (*emit) return cmd_emit(emit_opts);
    if (*opt) return cmd_opt(opt_file, opt_passes);
    const bool run_cuda = *run && run_target == "cuda";
    if (run_cuda && !driver::cuda_shim_requested()) {  // say which of toolkit, driver, GPU
      const std::string missing = driver::cuda_unavailable();
      if (!missing.empty()) {
        std::cerr << "snnc: error: snnc run --target cuda: " << missing << "\n";
        return 1;
      }
    }
    // commands that need the checked file first
    auto with_file = [](const std::string &path, const auto &command) {
      auto buffer = driver::read_source(path);
      if (!buffer) return 1;
      DiagnosticEngine diags(buffer);
      auto file = driver::load_checked(*buffer, diags);
      return file ? command(*file, diags) : 1;
    };
    if (*build) {
      auto program = load_program(build_file);
      return program ? driver::run_build(build_opts, *program) : 1;
    }
    if (*trace)
      return with_file(trace_opts.file, [&](const ast::File &f, DiagnosticEngine &d) {
        return driver::run_trace(trace_opts, f, d);
      });
    if (*run) {
      run_opts.progress = !no_progress;
      auto program = load_program(run_opts.file);
      if (!program) return 1;
      const auto experiments = program->experiments();
      bool experiment = !experiments.empty();
      if (!run_opts.sim.empty())
        experiment =
            std::find(experiments.begin(), experiments.end(), run_opts.sim) != experiments.end();
      run_opts.target = run_target;
      if (!experiment) return driver::run_simulation(run_opts, *program);
      if (run_cuda && (train_opts.micro_batch > 0 || train_opts.segment_steps > 0)) {
        std::cerr << "snnc: error: snnc run --target cuda: "
                  << (train_opts.micro_batch > 0 ? "--micro-batch" : "--segment-steps")
                  << " runs on the CPU only\n";
        return 1;
      }
      train_opts.target = run_target;
      train_opts.experiment = run_opts.sim;
      train_opts.out_dir = run_opts.out_dir;
      train_opts.summary_json = run_opts.summary_json;
      train_opts.seed = run_opts.seed;
      return driver::run_experiment(*program, {train_opts, run_opts.quiet, run_opts.progress});
    }
  } catch (const std::bad_alloc &) {  // the last resort: the checks before a run missed it
    std::cerr << "snnc: error: out of memory (the model, its data or its outputs need more "
                 "memory than is available)\n";
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "snnc: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
