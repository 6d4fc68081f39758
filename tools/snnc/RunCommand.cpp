// RunCommand.cpp — `snnc run` on a simulation: Program::simulate, then the outputs written
// and the summary printed.
#include "RunCommand.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "OutputFiles.h"

namespace snnc::driver {

namespace {

nlohmann::json summary(const SimulationResult &r, const std::string &file,
                       const std::string &out_dir, bool traces) {
  double sim_time = r.dt * r.steps;
  nlohmann::json pops = nlohmann::json::array(), sources = nlohmann::json::array();
  for (const auto &g : r.groups) {
    nlohmann::json j = {{"name", g.name},
                        {"neurons", g.size},
                        {"spikes", g.spike_count},
                        {"rate_hz", g.spike_count / (g.size * sim_time)}};
    (g.population ? pops : sources).push_back(j);
  }
  nlohmann::json outputs = {{"dir", out_dir},
                            {"spikes_csv", out_dir + "/spikes.csv"},
                            {"raster_svg", out_dir + "/raster.svg"}};
  if (traces) outputs["traces_csv"] = out_dir + "/traces.csv";
  if (!r.plastic.empty()) outputs["synapses_csv"] = out_dir + "/synapses.csv";
  // per connection with a synapse model: each state's mean, range and a 10-bin histogram
  nlohmann::json plastic = nlohmann::json::object();
  for (const auto &st : r.plastic)
    for (const auto &[name, values] : st.variables) {
      if (values.empty()) continue;
      auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      double sum = 0;
      for (double v : values) sum += v;
      std::vector<int64_t> bins(10, 0);
      const double width = (*hi - *lo) / 10;
      for (double v : values)
        ++bins[width > 0 ? std::min<int64_t>(9, static_cast<int64_t>((v - *lo) / width)) : 0];
      plastic[st.connection][name] = {
          {"mean", sum / values.size()}, {"min", *lo}, {"max", *hi}, {"histogram", bins}};
    }
  return {{"file", file},
          {"simulation", r.simulation},
          {"seed", r.seed},
          {"dt_s", r.dt},
          {"steps", r.steps},
          {"simulated_time_s", sim_time},
          {"populations", pops},
          {"poisson_sources", sources},
          {"synapses", r.synapses},
          {"synaptic_events", r.synaptic_events},
          {"plastic_synapses", plastic},
          {"wall_time_s",
           {{"compile", r.compile_seconds},
            {"build_connectivity", r.connectivity_seconds},
            {"run", r.run_seconds}}},
          {"outputs", outputs}};
}

void print_progress(int64_t done, int64_t total) {
  int width = 30, filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
  std::fprintf(stderr, "\r  [%s%s] %3d%% (%lld/%lld steps)", std::string(filled, '#').c_str(),
               std::string(width - filled, '.').c_str(),
               static_cast<int>(100 * done / std::max<int64_t>(total, 1)),
               static_cast<long long>(done), static_cast<long long>(total));
  if (done == total) std::fprintf(stderr, "\n");
}

}  // namespace

int run_simulation(const RunOptions &o, const Program &program) {
  try {
    SimulationOptions options;
    options.simulation = o.sim;
    options.set = o.sets;
    options.seed = o.seed;
    options.target = o.target;
    // a progress bar on a terminal for runs long enough to want one
    bool terminal = o.progress && !o.quiet && isatty(2);
    if (terminal)
      options.on_progress = [](int64_t done, int64_t total) {
        if (total >= 1000) print_progress(done, total);
      };
    // a protocol's phases: a bar on a terminal, else a line every tenth of a phase
    auto started = std::chrono::steady_clock::now();
    if (!o.quiet && o.progress)
      options.on_sample = [terminal, started](const std::string &phase, int64_t done,
                                              int64_t total) {
        double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (terminal) {
          std::fprintf(stderr, "\r  %-6s %lld/%lld samples (%.0f s)", phase.c_str(),
                       static_cast<long long>(done), static_cast<long long>(total), s);
          if (done == total) std::fprintf(stderr, "\n");
        } else if (done == total || done % std::max<int64_t>(total / 10, 100) == 0) {
          std::fprintf(stderr, "  %s: %lld/%lld samples (%.0f s)\n", phase.c_str(),
                       static_cast<long long>(done), static_cast<long long>(total), s);
        }
      };
    SimulationResult result = program.simulate(options);
    std::string out_dir = o.out_dir.empty() ? "out/" + result.simulation : o.out_dir;
    result.write_outputs(out_dir);
    const bool traces = !result.traces.empty();
    nlohmann::json j = summary(result, o.file, out_dir, traces);
    if (result.has_protocol) {
      const ProtocolOutcome &p = result.protocol;
      const int64_t samples = p.learned + p.assigned + p.tested;
      j["protocol"] = {
          {"learned", p.learned},
          {"assigned", p.assigned},
          {"tested", p.tested},
          {"correct", p.correct},
          {"accuracy", p.accuracy},
          {"readout", p.readout},
          {"repetitions", p.repetitions},
          {"silent", p.silent},
          {"seconds",
           {{"learn", p.learn_seconds}, {"assign", p.assign_seconds}, {"test", p.test_seconds}}},
          {"seconds_per_learned_sample", p.learned ? p.learn_seconds / p.learned : 0},
          {"seconds_per_sample",
           samples ? (p.learn_seconds + p.assign_seconds + p.test_seconds) / samples : 0},
          {"assignment", p.assignment}};
      if (!p.normalised.empty())
        j["outputs"]["receptive_fields_png"] = out_dir + "/receptive_fields.png";
      if (p.input_accuracy >= 0) j["protocol"]["input_readout_accuracy"] = p.input_accuracy;
    }
    j["target"] = o.target;
    const bool cuda = result.compiler != "llvm";
    if (cuda) j["cuda_compiler"] = result.compiler;
    std::string json_path = o.summary_json.empty() ? out_dir + "/summary.json" : o.summary_json;
    rt::write_file_atomic(json_path, j.dump(2) + "\n");

    if (!o.quiet) {
      double sim_time = result.dt * result.steps;
      std::cout << fmt::format(
          "snnc: simulated '{}' for {:g} s ({} steps of {:g} ms) in {:.3f} s "
          "(compile {:.3f} s, connectivity {:.3f} s){}\n",
          result.simulation, sim_time, result.steps, result.dt * 1e3, result.run_seconds,
          result.compile_seconds, result.connectivity_seconds,
          !cuda                       ? ""
          : result.compiler == "nvcc" ? " on the GPU (CUDA, nvcc)"
                                      : " on the CPU through the CUDA host shim (SNNC_CUDA_SHIM)");
      for (const auto &g : result.groups)
        std::cout << fmt::format("  {:<12} {:>8} neurons {:>10} spikes {:>9.3f} Hz\n", g.name,
                                 g.size, g.spike_count, g.spike_count / (g.size * sim_time));
      if (result.synapses)
        std::cout << fmt::format("  {} synapses, {} synaptic events ({:.1f} M events/s)\n",
                                 result.synapses, result.synaptic_events,
                                 result.synaptic_events / result.run_seconds / 1e6);
      if (result.has_protocol) {
        const ProtocolOutcome &p = result.protocol;
        std::cout << fmt::format(
            "  learned {} samples in {:.1f} s ({:.2f} ms each), {} shown again\n", p.learned,
            p.learn_seconds, p.learned ? 1e3 * p.learn_seconds / p.learned : 0.0, p.repetitions);
        if (p.tested && p.readout == "linear")
          std::cout << fmt::format(
              "  linear readout fitted to {} samples: test accuracy {:.2f} % ({}/{}); the same "
              "readout of the raw pixels {:.2f} %\n",
              p.assigned, 100 * p.accuracy, p.correct, p.tested, 100 * p.input_accuracy);
        else if (p.tested)
          std::cout << fmt::format(
              "  labels from {} samples; test accuracy {:.2f} % ({}/{}) in {:.1f} s\n", p.assigned,
              100 * p.accuracy, p.correct, p.tested, p.assign_seconds + p.test_seconds);
        if (!p.normalised.empty())
          std::cout << "  receptive fields: " << out_dir << "/receptive_fields.png\n";
      }
      std::cout << "  raster: " << out_dir << "/raster.svg  spikes: " << out_dir << "/spikes.csv";
      if (traces) std::cout << "  traces: " << out_dir << "/traces.csv";
      std::cout << "\n  summary: " << json_path << "\n";
    }
    return 0;
  } catch (const CompileError &e) {
    std::cerr << e.what();
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace snnc::driver
