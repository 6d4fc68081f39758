// Trainer.cpp — the training loop of an experiment (Program::train): data, epochs,
// evaluation, checkpoints, resume, summary and report.
#include "Trainer.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "CudaTrain.h"
#include "Inference.h"
#include "Loss.h"
#include "LowerExperiment.h"
#include "ModelCompiler.h"
#include "Network.h"
#include "Parallel.h"
#include "Plan.h"
#include "Report.h"
#include "Resources.h"
#include "Rng.h"
#include "Simulation.h"
#include "TrainStep.h"
#include "TrainingSpecs.h"
#include "Weights.h"
#include "passes/PlanSynapses.h"
#include "train/Checkpoint.h"
#include "train/Dataset.h"
#include "train/Optimizer.h"
#include "train/Safetensors.h"

namespace snnc::driver {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// What an experiment prints, also kept in <run dir>/log.txt (rewritten atomically after
/// every line, so an interrupted run keeps its log).
struct RunLog {
  std::string path, text;
  const std::function<void(const std::string &)> &sink;
  void line(const std::string &s) {
    if (sink) sink(s);
    text += s;
    if (!path.empty()) rt::write_file_atomic(path, text);
  }
};

rt::nn::EncoderSpec encoder_of(const ir::TrainSpec &t) {
  return backends::encoder_spec(t);
}

/// Turns a batch of images [B][F] in [0, 1] into network input [T][B][F].
void encode(const std::vector<float> &images, int64_t B, int64_t F, const ir::TrainSpec &t,
            rt::Rng &rng, std::vector<float> &x) {
  rt::nn::encode(images.data(), B, F, encoder_of(t), rng, x);
}

bool membrane_loss(const ir::TrainSpec &t) {
  return rt::nn::reads_membrane(backends::loss_spec(t).kind);
}

rt::nn::LossResult compute_loss(const rt::nn::Network &net, const std::vector<float> &out,
                                const int32_t *labels, int64_t B, int64_t K,
                                const ir::TrainSpec &t) {
  const int o = net.output();
  return rt::nn::compute_loss(backends::loss_spec(t), out, net.post_state(o),
                              net.layers()[o].states, labels, t.steps, B, K);
}

struct Evaluation {
  double accuracy = 0;
  double accumulates = 0, macs = 0;           ///< per inference
  std::map<std::string, double> spike_rates;  ///< per cell layer: spikes per neuron per step
  std::vector<int32_t> predictions;           ///< per test sample
};

/// Accuracy, predictions and spike rates (from spike sums per layer index) of an evaluation.
void summarize(Evaluation &e, std::vector<int32_t> pred, const std::map<int, double> &spikes,
               const rt::nn::Network &net, const rt::Dataset &test, int64_t steps) {
  int64_t correct = 0;
  for (int64_t k = 0; k < test.count; ++k) correct += pred[k] == test.labels[k];
  e.accuracy = test.count ? static_cast<double>(correct) / test.count : 0;
  e.predictions = std::move(pred);
  for (const auto &[layer, s] : spikes)
    e.spike_rates[net.layers()[layer].name] =
        s / (static_cast<double>(std::max<int64_t>(test.count, 1)) * net.features(layer) * steps);
}

Evaluation evaluate(rt::nn::Network &net, const rt::Dataset &test, const ir::TrainSpec &t,
                    uint64_t seed) {
  Evaluation e;
  std::map<int, double> spikes;
  net.count_ops(true);
  auto pred = rt::nn::predict(
      net, [&](int64_t first, int64_t n, float *out) { test.copy_images(first, n, out); },
      test.count, encoder_of(t), seed, membrane_loss(t),
      [&](int64_t) {
        for (size_t i = 0; i < net.layers().size(); ++i)
          if (net.layers()[i].spiking) {
            double s = 0;
            for (float v : net.activation(static_cast<int>(i))) s += v;
            spikes[static_cast<int>(i)] += s;
          }
      });
  summarize(e, std::move(pred), spikes, net, test, t.steps);
  const auto &ops = net.op_counts();
  e.accumulates = ops.samples ? ops.accumulates / ops.samples : 0;
  e.macs = ops.samples ? ops.macs / ops.samples : 0;
  net.count_ops(false);
  return e;
}

/// The device loss of an experiment's loss (Loss.h's definitions).
rt::cuda::DeviceNetwork::Loss device_loss(const ir::TrainSpec &t) {
  using L = rt::cuda::DeviceNetwork::Loss;
  const rt::nn::LossSpec spec = backends::loss_spec(t);
  switch (spec.kind) {
    case rt::nn::LossKind::MseCount:
      return {L::MseCount, spec.correct, spec.incorrect};
    case rt::nn::LossKind::CrossEntropyCount:
      return {L::CrossEntropyCount};
    case rt::nn::LossKind::MembraneMse:
      return {L::MembraneMse, spec.correct, spec.incorrect};
    case rt::nn::LossKind::MembraneCrossEntropy:
      return {L::MembraneCrossEntropy};
  }
  throw std::logic_error("unhandled loss kind");
}

/// Runs the device forward on a batch encoded on the host (the CPU's encoder stream, so both
/// targets see the same spikes): spike trains go over as bytes, direct input as the images.
void device_forward(rt::cuda::DeviceNetwork &d, const std::vector<float> &x, const float *images,
                    int64_t B, const ir::TrainSpec &t, std::vector<uint8_t> &bytes) {
  if (t.encoder == "direct") {
    d.forward_direct(images, t.steps, B);
    return;
  }
  bytes.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) bytes[i] = x[i] != 0.f;
  d.forward_spikes(bytes.data(), t.steps, B);
}

/// One training step on the GPU: parameters up, the CPU network's dropout draws, forward,
/// loss and backward there, gradients back into `net` (its optimizer steps on the host).
rt::nn::StepResult device_train_step(rt::cuda::DeviceNetwork &d, rt::nn::Network &net,
                                     const rt::Batch &batch, const std::vector<float> &x,
                                     const ir::TrainSpec &t, std::vector<uint8_t> &bytes) {
  d.set_params(net.params());
  d.set_training(true);
  for (size_t i = 0; i < net.layers().size(); ++i) {
    const auto &l = net.layers()[i];
    if (l.kind != rt::nn::LayerSpec::Dropout || l.rate <= 0) continue;
    const size_t n = static_cast<size_t>(t.steps * batch.size * net.features(l.input));
    const std::vector<uint8_t> keep = net.draw_dropout_keep(static_cast<int>(i), n);
    d.set_dropout_mask(static_cast<int>(i), keep.data(), static_cast<int64_t>(n));
  }
  device_forward(d, x, batch.images.data(), batch.size, t, bytes);
  const auto r = d.loss(batch.labels.data(), device_loss(t));
  d.zero_grad();
  d.backward_loss();
  d.get_grads(net.params());
  net.mask_gradients();  // sparse layers run dense on the GPU: keep absent ones absent
  return {r.loss, r.correct};
}

/// The same evaluation on the GPU (snnc run --target cuda): the same encoder stream and
/// batches as rt::nn::predict; predictions, spike sums and the counts behind synaptic
/// operations computed on the device.
Evaluation evaluate_on_device(rt::cuda::DeviceNetwork &device, const rt::nn::Network &net,
                              const rt::Dataset &test, const ir::TrainSpec &t, uint64_t seed) {
  Evaluation e;
  const auto &layers = net.layers();
  std::vector<uint8_t> bytes;
  std::map<int, double> spikes;
  double accumulates = 0, macs = 0;
  device.set_training(false);
  auto predictions = rt::nn::predict_batches(
      [&](int64_t first, int64_t n, float *out) { test.copy_images(first, n, out); }, test.count,
      net.features(0), encoder_of(t), seed, rt::nn::kPredictBatch,
      [&](const std::vector<float> &x, const float *images, int64_t b) {
        device_forward(device, x, images, b, t, bytes);
        for (size_t i = 0; i < layers.size(); ++i) {
          const auto &l = layers[i];
          if (l.spiking) spikes[static_cast<int>(i)] += device.activity(static_cast<int>(i)).sum;
          if (l.kind == rt::nn::LayerSpec::Linear || l.kind == rt::nn::LayerSpec::Conv2d) {
            const auto in = device.activity(l.input);
            rt::nn::count_synaptic_ops(l, layers[l.input], in.nonzero, in.non_binary == 0,
                                       t.steps * b, &accumulates, &macs);
          }
        }
        return device.predict(membrane_loss(t));
      });
  summarize(e, std::move(predictions), spikes, net, test, t.steps);
  e.accumulates = test.count ? accumulates / test.count : 0;
  e.macs = test.count ? macs / test.count : 0;
  return e;
}

/// Synaptic operations per inference and the energy they would take at 45 nm: 0.9 pJ per
/// 32-bit accumulate, 4.6 pJ per 32-bit multiply-accumulate (Horowitz, ISSCC 2014). An
/// estimate of the synaptic arithmetic only (no memory traffic, no neuron updates).
nlohmann::json efficiency(const Evaluation &ev) {
  double pj = 0.9 * ev.accumulates + 4.6 * ev.macs;
  return {{"accumulates", ev.accumulates},
          {"multiply_accumulates", ev.macs},
          {"estimated_synaptic_energy_nj", pj / 1000.0},
          {"energy_model", "estimate: 0.9 pJ/AC, 4.6 pJ/MAC (32-bit, 45 nm; Horowitz 2014)"}};
}

std::vector<rt::NamedTensor> checkpoint_tensors(rt::nn::Network &net) {
  std::vector<rt::NamedTensor> out;
  for (const auto &p : net.params()) out.push_back({p.name, p.shape, p.value});
  return out;
}

std::vector<rt::NamedTensor> optimizer_tensors(const rt::Optimizer &opt) {
  std::vector<rt::NamedTensor> state;
  for (auto &[name, v] : opt.state()) state.push_back({name, {static_cast<int64_t>(v.size())}, v});
  return state;
}

/// Restores parameters and optimizer state from a verified checkpoint unit; throws when
/// they do not fit the network.
void restore(rt::nn::Network &net, rt::Optimizer &opt, const std::vector<rt::ParamRef> &refs,
             const rt::CheckpointUnit &unit, const std::string &where) {
  rt::nn::load_weights(net, unit.weights, where + "/weights.safetensors");
  std::vector<std::pair<std::string, std::vector<float>>> state;
  for (const auto &t : unit.optimizer) state.push_back({t.name, t.data});
  opt.check_state(state, refs, where + "/optimizer.safetensors");
  opt.load_state(state);
}

/// Peak resident memory of this process so far (the data set included).
double peak_rss_mib() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

/// Per linear/conv layer: the path its last pass took and the input density it measured.
nlohmann::json synapse_report(const rt::nn::Network &net) {
  nlohmann::json r = nlohmann::json::object();
  for (size_t i = 0; i < net.layers().size(); ++i) {
    const auto &st = net.synapse_stats()[i];
    if (st.event_passes + st.dense_passes == 0) continue;
    r[net.layers()[i].name] = {{"path", st.events ? "event" : "dense"},
                               {"input_density", st.density},
                               {"event_passes", st.event_passes},
                               {"dense_passes", st.dense_passes}};
  }
  return r;
}

nlohmann::json train_one(const std::string &role, const ir::Model &model, const ir::TrainSpec &t,
                         const ir::ExperimentSpec &spec, const rt::Dataset &train,
                         const rt::Dataset &test, const TrainOptions &o,
                         const std::string &source_name, const std::string &out_dir,
                         const nlohmann::json &settings, const rt::CheckpointUnit *previous,
                         const std::function<void(const nlohmann::json &)> &on_epoch, RunLog &log,
                         std::vector<LayerRaster> *raster = nullptr) {
  auto t_compile = Clock::now();
  backends::CompiledModel compiled(model);
  double compile_s = seconds_since(t_compile);
  {  // refused before the network allocates anything (activations for the micro-batch and
     // the time segment a step holds at once)
    const int64_t steps = o.segment_steps > 0 ? std::min(o.segment_steps, t.steps) : t.steps;
    const int64_t batch = o.micro_batch > 0 ? std::min(o.micro_batch, spec.batch) : spec.batch;
    const double data = static_cast<double>(train.pixels.size() + test.pixels.size()) +
                        4.0 * static_cast<double>(train.images.size() + test.images.size());
    rt::check_memory(
        data + rt::nn::training_bytes(compiled.layers(), steps, std::max(batch, int64_t{128})),
        fmt::format("training '{}' ({} parameters, {} steps of batch {})", model.name,
                    rt::nn::parameter_count(compiled.layers()), t.steps, spec.batch));
  }
  rt::nn::Network net(compiled.layers(), compiled.output());
  net.init_params(spec.seed);
  if (!o.synapse.empty()) net.force_synapse(rt::nn::synapse_from_name(o.synapse));
  net.set_segment_steps(o.segment_steps);
  std::unique_ptr<DeviceModel> device;  // --target cuda: the step and evaluation run there
  if (o.target == "cuda") {
    // net.layers(): with --synapse applied (event-driven linear layers on the device)
    device = std::make_unique<DeviceModel>(model, net.layers(), compiled.output(), source_name);
    compile_s += device->compile_seconds();
    log.line(fmt::format("{} ({}): runs {} (CUDA compiled in {:.1f} s)\n", role, model.name,
                         device->compiler() == "nvcc"
                             ? "on the GPU"
                             : "on the CPU through the CUDA host shim (SNNC_CUDA_SHIM)",
                         device->compile_seconds()));
  }
  int64_t F = net.features(0), K = net.features(net.output());
  if (F != train.features())
    throw std::runtime_error("network '" + model.name + "' takes " + std::to_string(F) +
                             " input values per sample but the data set has " +
                             std::to_string(train.features()));
  if (F != test.features())
    throw std::runtime_error("network '" + model.name + "' takes " + std::to_string(F) +
                             " input values per sample but the test set has " +
                             std::to_string(test.features()));
  if (K != train.classes)
    throw std::runtime_error("network '" + model.name + "' has " + std::to_string(K) +
                             " outputs for " + std::to_string(train.classes) +
                             " classes: the output layer needs one output per class");
  std::unique_ptr<rt::Optimizer> opt = t.optim == "sgd"
                                           ? rt::make_sgd(t.lr, t.momentum, t.weight_decay)
                                           : rt::make_adam(t.lr, 0.9, 0.999, 1e-8, t.weight_decay);
  std::vector<rt::ParamRef> refs;
  for (auto &p : net.params())
    refs.push_back({p.name, p.value.data(), p.grad.data(), static_cast<int64_t>(p.value.size())});

  nlohmann::json epochs = nlohmann::json::array();
  int64_t first_epoch = 0;
  if (previous) {
    const std::string where =
        out_dir + "/checkpoints/" + role + "-epoch-" + std::to_string(previous->epoch);
    epochs = previous->record.value("epochs", nlohmann::json::array());
    first_epoch = previous->epoch;
    if (!epochs.is_array() || static_cast<int64_t>(epochs.size()) != first_epoch)
      throw std::runtime_error("checkpoint '" + where + "' is damaged: record.json does not list " +
                               std::to_string(first_epoch) + " epochs");
    restore(net, *opt, refs, *previous, where);
    rt::publish_checkpoint(out_dir, *previous);  // killed before it was published?
    log.line(fmt::format("{} ({}): resumed after epoch {}\n", role, model.name, first_epoch));
  }
  auto record = [&](bool done) {
    return nlohmann::json{{"role", role},
                          {"network", model.name},
                          {"encoder", t.encoder},
                          {"steps", t.steps},
                          {"loss", t.loss},
                          {"optimizer", t.optim},
                          {"lr", t.lr},
                          {"compile_s", compile_s},
                          {"epochs", epochs},
                          {"complete", done},
                          {"final_test_accuracy",
                           epochs.empty() ? 0.0 : epochs.back()["test_accuracy"].get<double>()},
                          {"checkpoint", out_dir + "/" + role + ".safetensors"}};
  };
  rt::BatchLoader loader(train, spec.batch, true, spec.seed);
  std::vector<float> x;
  std::vector<uint8_t> bytes;  // --target cuda: spike input as bytes
  const int64_t prune_at =
      o.prune > 0 ? (o.prune_after >= 0 ? o.prune_after : spec.epochs / 2) : -1;
  bool pruned = false;
  if (prune_at >= 0 && first_epoch > prune_at) {  // resumed after the pruning: the
    net.prune(0.0, ir::compressed_sparsity());    // checkpoint's zeros are the mask
    pruned = true;
  }
  for (int64_t epoch = first_epoch; epoch < spec.epochs; ++epoch) {
    if (epoch == prune_at) {  // then train the kept connections only
      for (const auto &[name, kept] : net.prune(o.prune, ir::compressed_sparsity()))
        log.line(fmt::format("{} ({}): pruned {} to {:.1f} % of its connections before epoch {}\n",
                             role, model.name, name, 100 * kept, epoch + 1));
      pruned = true;
    }
    opt->set_lr(rt::scheduled_lr(spec.schedule, t.lr, epoch, spec.epochs));
    auto t0 = Clock::now();
    loader.start_epoch(epoch);
    rt::Batch batch;
    rt::Rng rng(spec.seed, 1000 + static_cast<uint64_t>(epoch));
    net.set_training(true, spec.seed * 1000003 + static_cast<uint64_t>(epoch));
    double loss_sum = 0;
    int64_t correct = 0, seen = 0, done_batches = 0;
    while (loader.next(batch)) {
      encode(batch.images, batch.size, F, t, rng, x);
      rt::nn::StepResult loss;
      if (device) {  // parameters to the device, the step there, gradients back
        loss = device_train_step(device->net(), net, batch, x, t, bytes);
      } else {
        loss = rt::nn::train_step(
            net, x.data(), batch.labels.data(), t.steps, batch.size, o.micro_batch,
            [&](const std::vector<float> &out, const int32_t *labels, int64_t n) {
              return compute_loss(net, out, labels, n, K, t);
            });
      }
      if (spec.clip > 0) rt::clip_grad_norm(refs, spec.clip);
      opt->step(refs);
      if (pruned) net.apply_weight_masks();  // the optimizer's moments predate the pruning
      loss_sum += loss.loss * batch.size;
      correct += loss.correct;
      seen += batch.size;
      ++done_batches;
      if (o.on_progress)
        o.on_progress({role, epoch + 1, spec.epochs, done_batches, loader.batches_per_epoch(),
                       loss_sum / seen, static_cast<double>(correct) / seen,
                       seen / seconds_since(t0)});
    }
    double train_s = seconds_since(t0);
    net.set_training(false);
    if (device) device->net().set_params(net.params());
    Evaluation ev = device ? evaluate_on_device(device->net(), net, test, t, spec.seed)
                           : evaluate(net, test, t, spec.seed);
    double wall = seconds_since(t0);
    nlohmann::json rec = {
        {"epoch", epoch + 1},
        {"train_loss", loss_sum / std::max<int64_t>(seen, 1)},
        {"train_accuracy", static_cast<double>(correct) / std::max<int64_t>(seen, 1)},
        {"test_accuracy", ev.accuracy},
        {"wall_time_s", wall},
        {"train_time_s", train_s},
        {"samples_per_s", seen / train_s},
        {"spike_rate", ev.spike_rates},
        {"ops_per_inference", efficiency(ev)},
        {"synapse", synapse_report(net)},
        {"peak_rss_mib", peak_rss_mib()},
        {"lr", opt->lr()}};
    epochs.push_back(rec);
    rt::CheckpointUnit unit;  // committed as one: weights, optimizer, predictions, record
    unit.role = role;
    unit.epoch = epoch + 1;
    unit.weights = checkpoint_tensors(net);
    unit.optimizer = optimizer_tensors(*opt);
    unit.metadata = {
        {"format", "pt"}, {"snnc_network", model.name}, {"snnc_epoch", std::to_string(epoch + 1)}};
    // the latest evaluation, sample by sample (what `snnc build` binaries must reproduce)
    unit.predictions_csv = "index,label,predicted\n";
    for (size_t k = 0; k < ev.predictions.size(); ++k)
      unit.predictions_csv += fmt::format("{},{},{}\n", k, test.labels[k], ev.predictions[k]);
    unit.record = record(epoch + 1 == spec.epochs);
    unit.settings = settings;
    rt::commit_checkpoint(out_dir, unit);
    log.line(fmt::format(
        "{} ({}) epoch {}/{}: train loss {:.4f} acc {:.2f}% | test acc {:.2f}% | {:.1f} s, "
        "{:.0f} samples/s\n",
        role, model.name, epoch + 1, spec.epochs, rec["train_loss"].get<double>(),
        100 * rec["train_accuracy"].get<double>(), 100 * ev.accuracy, wall,
        rec["samples_per_s"].get<double>()));
    on_epoch(unit.record);
  }
  if (raster && test.count > 0) {  // the spikes of test image 0 through every spiking layer
    std::vector<float> image(static_cast<size_t>(F)), x1;
    test.copy_images(0, 1, image.data());
    rt::Rng rng(spec.seed, 31337);
    encode(image, 1, F, t, rng, x1);
    net.forward(x1.data(), t.steps, 1);
    for (size_t i = 0; i < net.layers().size(); ++i)
      if (net.layers()[i].spiking)
        raster->push_back({net.layers()[i].name, t.steps, net.features(static_cast<int>(i)),
                           net.activation(static_cast<int>(i))});
  }
  return record(true);
}

/// out/<experiment>/run-YYYYMMDD-HHMMSS[-N]: a new directory for every run, so no run
/// overwrites an earlier one.
std::string fresh_run_dir(const std::string &experiment) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  std::string base = "out/" + experiment + "/run-" + stamp, dir = base;
  for (int n = 2; std::filesystem::exists(dir); ++n) dir = base + "-" + std::to_string(n);
  std::filesystem::create_directories(dir);
  return dir;
}

nlohmann::json training_json(const ir::TrainSpec &t) {
  return nlohmann::json{
      {"encoder", t.encoder}, {"steps", t.steps},         {"loss", t.loss},
      {"correct", t.correct}, {"incorrect", t.incorrect}, {"optimizer", t.optim},
      {"lr", t.lr},           {"momentum", t.momentum},   {"weight_decay", t.weight_decay}};
}

std::string shape_text(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s.empty() ? "scalars" : s;
}

/// CRC-32 of the samples and labels of both sets (as used: after any --limit).
uint32_t data_checksum(const rt::Dataset &train, const rt::Dataset &test) {
  uint32_t crc = 0;
  for (const rt::Dataset *d : {&train, &test}) {
    crc = rt::checksum(d->pixels.data(), d->pixels.size(), crc);
    crc = rt::checksum(d->images.data(), d->images.size() * sizeof(float), crc);
    crc = rt::checksum(d->labels.data(), d->labels.size() * sizeof(int32_t), crc);
  }
  return crc;
}

/// Epoch `e` of a run record (as summary.json holds it).
EpochMetrics epoch_metrics(const nlohmann::json &run, size_t e, int64_t replicate, int64_t epochs) {
  const auto &rec = run["epochs"][e];
  EpochMetrics m;
  m.role = run.value("role", "");
  m.network = run.value("network", "");
  m.replicate = replicate;
  m.epoch = rec.value("epoch", static_cast<int64_t>(e + 1));
  m.epochs = epochs;
  m.train_loss = rec.value("train_loss", 0.0);
  m.train_accuracy = rec.value("train_accuracy", 0.0);
  m.test_accuracy = rec.value("test_accuracy", 0.0);
  m.seconds = rec.value("wall_time_s", 0.0);
  m.samples_per_second = rec.value("samples_per_s", 0.0);
  return m;
}

/// The experiment as resolved (every default filled in), for config.json.
nlohmann::json resolved_config(const ir::ExperimentSpec &s) {
  auto train = training_json;
  nlohmann::json j = {{"experiment", s.name},
                      {"dataset", s.dataset},
                      {"data_dir", s.data_dir},
                      {"epochs", s.epochs},
                      {"batch", s.batch},
                      {"train_limit", s.train_limit},
                      {"test_limit", s.test_limit},
                      {"seed", s.seed},
                      {"replicates", s.replicates},
                      {"schedule", s.schedule},
                      {"clip", s.clip},
                      {"model",
                       {{"network", s.model.name},
                        {"ir", ir::print(s.model)},
                        {"training", train(s.model_train)}}}};
  if (s.compare)
    j["compare"] = {{"network", s.compare->name},
                    {"ir", ir::print(*s.compare)},
                    {"training", train(s.compare_train)}};
  return j;
}

/// The results table over replicates (mean ± sample std), as Markdown (returned and
/// written to results.md) and CSV (results.csv).
std::string results_table(const ir::ExperimentSpec &spec, const nlohmann::json &runs,
                          const std::string &out_dir) {
  struct Row {
    std::string role, network, type;
    std::vector<double> acc, acs, macs, energy;
  };
  std::vector<Row> rows;
  for (const auto &r : runs) {
    std::string role = r["role"];
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Row &x) { return x.role == role; });
    if (it == rows.end()) {
      const ir::Model &m = role == "model" ? spec.model : *spec.compare;
      bool spiking = false;
      for (const auto &c : m.cells) spiking |= c.output == nullptr;
      rows.push_back({role, m.name, spiking ? "SNN" : "ANN", {}, {}, {}, {}});
      it = rows.end() - 1;
    }
    it->acc.push_back(r["final_test_accuracy"]);
    if (!r["epochs"].empty() && r["epochs"].back().contains("ops_per_inference")) {
      const auto &ops = r["epochs"].back()["ops_per_inference"];
      it->acs.push_back(ops["accumulates"]);
      it->macs.push_back(ops["multiply_accumulates"]);
      it->energy.push_back(ops["estimated_synaptic_energy_nj"]);
    }
  }
  auto mean = [](const std::vector<double> &v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / v.size();
  };
  auto stdev = [&](const std::vector<double> &v) {
    if (v.size() < 2) return 0.0;
    double m = mean(v), s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / (v.size() - 1));
  };
  std::string md = fmt::format(
      "| benchmark | network | type | test accuracy (%) | replicates | ACs / inference | "
      "MACs / inference | est. synaptic energy (nJ) |\n|---|---|---|---|---|---|---|---|\n");
  std::string csv =
      "benchmark,network,role,type,accuracy_mean,accuracy_std,replicates,accumulates,macs,energy_"
      "nj\n";
  for (const auto &r : rows) {
    md += fmt::format("| {} | {} ({}) | {} | {:.2f} ± {:.2f} | {} | {:.3g} | {:.3g} | {:.3g} |\n",
                      spec.dataset, r.network, r.role, r.type, 100 * mean(r.acc),
                      100 * stdev(r.acc), r.acc.size(), mean(r.acs), mean(r.macs), mean(r.energy));
    csv += fmt::format("{},{},{},{},{:.6f},{:.6f},{},{:.6g},{:.6g},{:.6g}\n", spec.dataset,
                       r.network, r.role, r.type, mean(r.acc), stdev(r.acc), r.acc.size(),
                       mean(r.acs), mean(r.macs), mean(r.energy));
  }
  md +=
      "\nEnergy is an estimate of the synaptic arithmetic only: 0.9 pJ per accumulate, 4.6 pJ per "
      "multiply-accumulate (32-bit, 45 nm; Horowitz, ISSCC 2014).\n";
  rt::write_file_atomic(out_dir + "/results.md", md);
  rt::write_file_atomic(out_dir + "/results.csv", csv);
  return md;
}

std::string default_data_dir(const std::string &dataset) {
  return dataset == "fashion_mnist" ? "data/fashion-mnist" : "data/mnist";
}

}  // namespace

TrainResult train_experiment(const Program::Impl &program, const TrainOptions &o) {
  const SourceBuffer &source = *program.buffer;
  DiagnosticEngine diags = quiet_diagnostics(program);
  auto spec = frontend::lower_experiment(program.file, o.experiment, diags);
  if (!spec) throw CompileError(render_all(diags));
  if (o.epochs > 0) spec->epochs = o.epochs;
  if (o.train_limit >= 0) spec->train_limit = o.train_limit;
  if (o.test_limit >= 0) spec->test_limit = o.test_limit;
  if (o.seed >= 0) spec->seed = static_cast<uint64_t>(o.seed);
  {
    std::string dir = !o.data_dir.empty()       ? o.data_dir
                      : !spec->data_dir.empty() ? spec->data_dir
                                                : default_data_dir(spec->dataset);
    rt::Dataset train = rt::load_mnist_like(dir, true), test = rt::load_mnist_like(dir, false);
    if (train.sample_shape != test.sample_shape)
      throw std::runtime_error("data set in '" + dir + "': the test samples are " +
                               shape_text(test.sample_shape) + " but the training samples are " +
                               shape_text(train.sample_shape));
    if (spec->train_limit > 0 && spec->train_limit < train.count)
      train = rt::subset(train, 0, spec->train_limit);
    if (spec->test_limit > 0 && spec->test_limit < test.count)
      test = rt::subset(test, 0, spec->test_limit);
    const bool resuming = !o.resume_dir.empty();
    if (resuming && !std::filesystem::is_regular_file(o.resume_dir + "/config.json"))
      throw std::runtime_error("cannot resume: '" + o.resume_dir +
                               "' holds no snnc run (no config.json)");
    std::string out_dir = resuming             ? o.resume_dir
                          : !o.out_dir.empty() ? o.out_dir
                                               : fresh_run_dir(spec->name);
    rt::DirectoryLock lock(out_dir);  // one process per run directory
    rt::remove_stale_temporaries(out_dir);
    std::string json_path = o.summary_json.empty() ? out_dir + "/summary.json" : o.summary_json;
    rt::regular_output_path(json_path);  // refuse a device node before any work is done
    auto replicate_dir = [&](int64_t rep) {
      return spec->replicates > 1
                 ? out_dir + "/seed-" + std::to_string(spec->seed + static_cast<uint64_t>(rep))
                 : out_dir;
    };
    if (resuming) {
      std::ifstream in(out_dir + "/config.json");
      nlohmann::json was;
      try {
        was = nlohmann::json::parse(in);
      } catch (const std::exception &) {
        throw std::runtime_error("cannot resume: '" + out_dir + "/config.json' is not valid JSON");
      }
      if (was.value("experiment", "") != spec->name)
        throw std::runtime_error("cannot resume: '" + out_dir + "' holds experiment '" +
                                 was.value("experiment", "?") + "', not '" + spec->name + "'");
    } else {  // a new run in an old directory: nothing of the old one may be resumed later
      for (int64_t rep = 0; rep < spec->replicates; ++rep)
        rt::clear_checkpoints(replicate_dir(rep));
    }
    // what determines each network's result: a resumed run must have been started with the
    // same, or the checkpoint would continue a different run
    nlohmann::json common = {
        {"experiment", spec->name},
        {"dataset", spec->dataset},
        {"train_samples", train.count},
        {"test_samples", test.count},
        {"data_crc32", data_checksum(train, test)},
        {"batch", spec->batch},
        {"schedule", spec->schedule},
        {"clip", spec->clip},
        {"micro_batch", o.micro_batch},
        {"segment_steps", o.segment_steps},
        {"target", o.target},
        {"synapse", o.synapse.empty() ? "as planned" : o.synapse},
        {"prune", o.prune},
        {"prune_after",
         o.prune > 0 ? (o.prune_after >= 0 ? o.prune_after : spec->epochs / 2) : int64_t{-1}}};
    if (spec->schedule != "constant") common["epochs"] = spec->epochs;  // shapes the rates
    auto settings_of = [&](const std::string &role, uint64_t seed) {
      nlohmann::json j = common;
      const ir::Model &m = role == "model" ? spec->model : *spec->compare;
      j["seed"] = seed;
      j["network"] = m.name;
      j["ir"] = ir::print(m);
      j["training"] = training_json(role == "model" ? spec->model_train : spec->compare_train);
      return j;
    };
    // the latest committed checkpoint of each run, checked against this run's settings
    std::map<std::pair<std::string, int64_t>, rt::CheckpointUnit> units;
    nlohmann::json forced = nlohmann::json::array();
    if (resuming)
      for (int64_t rep = 0; rep < spec->replicates; ++rep)
        for (std::string role : {"model", "compare"}) {
          if (role == "compare" && !spec->compare) continue;
          auto unit = rt::load_checkpoint(replicate_dir(rep), role);
          if (!unit) continue;
          auto changes = rt::settings_changes(
              unit->settings, settings_of(role, spec->seed + static_cast<uint64_t>(rep)));
          if (!changes.empty() && !o.force) {
            std::string list;
            for (const auto &c : changes) list += "\n  " + c;
            throw std::runtime_error(
                "cannot resume: '" + out_dir + "' was trained (" + role +
                ") with other settings:" + list +
                "\nresume with the settings it was started with, or add --force to continue it "
                "anyway (summary.json records the changes)");
          }
          for (const auto &c : changes) forced.push_back(role + ": " + c);
          units.emplace(std::make_pair(role, rep), std::move(*unit));
        }
    {
      nlohmann::json config = resolved_config(*spec);
      config["data_dir"] = dir;
      config["micro_batch"] = o.micro_batch;
      config["segment_steps"] = o.segment_steps;
      config["target"] = o.target;
      if (o.prune > 0) {
        config["prune"] = o.prune;
        config["prune_after"] = o.prune_after;
      }
      config["synapse"] = o.synapse.empty() ? "as planned" : o.synapse;
      config["threads"] = rt::nn::thread_count();
      if (!forced.empty()) config["resumed_with_changed_settings"] = forced;
      rt::write_file_atomic(out_dir + "/config.json", config.dump(2) + "\n");
      rt::write_file_atomic(out_dir + "/source.snn", source.text());
    }
    auto previous_unit = [&](const std::string &role,
                             int64_t replicate) -> const rt::CheckpointUnit * {
      auto it = units.find({role, replicate});
      return it == units.end() ? nullptr : &it->second;
    };
    RunLog log{out_dir + "/log.txt", "", o.on_log};
    if (resuming) {  // keep the interrupted run's log
      std::ifstream old(out_dir + "/log.txt");
      std::stringstream text;
      text << old.rdbuf();
      log.text = text.str();
    }
    log.line(
        fmt::format("snnc: experiment '{}': {} from {} ({} training, {} test samples), {} epoch{}, "
                    "batch {}, seed {}\n",
                    spec->name, spec->dataset, dir, train.count, test.count, spec->epochs,
                    spec->epochs == 1 ? "" : "s", spec->batch, spec->seed));
    nlohmann::json runs = nlohmann::json::array();
    auto summary_with = [&](const nlohmann::json &current, bool complete) {
      nlohmann::json all = runs;
      if (!current.is_null()) all.push_back(current);
      nlohmann::json j{{"file", source.name()},        {"experiment", spec->name},
                       {"dataset", spec->dataset},     {"data_dir", dir},
                       {"train_samples", train.count}, {"test_samples", test.count},
                       {"seed", spec->seed},           {"batch", spec->batch},
                       {"complete", complete},         {"runs", all}};
      if (!forced.empty()) j["resumed_with_changed_settings"] = forced;
      return j;
    };
    auto write_progress = [&](const nlohmann::json &run) {
      rt::write_file_atomic(json_path, summary_with(run, false).dump(2) + "\n");
    };
    std::vector<LayerRaster> raster;
    for (int64_t rep = 0; rep < spec->replicates; ++rep) {
      ir::ExperimentSpec replicate = *spec;  // replicate r: seed + r, its own checkpoint folder
      replicate.seed = spec->seed + static_cast<uint64_t>(rep);
      std::string dir_r = replicate_dir(rep);
      auto tag = [&](nlohmann::json r) {
        r["replicate"] = rep;
        r["seed"] = replicate.seed;
        return r;
      };
      auto progress = [&](const nlohmann::json &run) {
        write_progress(tag(run));
        if (o.on_epoch && !run["epochs"].empty())
          o.on_epoch(epoch_metrics(run, run["epochs"].size() - 1, rep, spec->epochs));
      };
      if (spec->replicates > 1)
        log.line(
            fmt::format("replicate {}/{} (seed {})\n", rep + 1, spec->replicates, replicate.seed));
      runs.push_back(
          tag(train_one("model", spec->model, spec->model_train, replicate, train, test, o,
                        source.name(), dir_r, settings_of("model", replicate.seed),
                        previous_unit("model", rep), progress, log, rep == 0 ? &raster : nullptr)));
      if (spec->compare && !o.no_compare)
        runs.push_back(
            tag(train_one("compare", *spec->compare, spec->compare_train, replicate, train, test, o,
                          source.name(), dir_r, settings_of("compare", replicate.seed),
                          previous_unit("compare", rep), progress, log)));
      else if (const auto *kept = previous_unit("compare", rep))  // --no-compare on resume:
        runs.push_back(tag(kept->record));  // the twin's finished epochs stay in the summary
    }
    const std::string summary = summary_with(nullptr, true).dump(2) + "\n";
    rt::write_file_atomic(json_path, summary);
    std::string table = results_table(*spec, runs, out_dir);
    rt::write_file_atomic(
        out_dir + "/report.html",
        make_report(summary_with(nullptr, true), table, raster,
                    fmt::format("{} on test image 0 (label {}), seed {}", spec->model.name,
                                test.count ? test.labels[0] : -1, spec->seed)));
    log.line("\n" + table + "\n");
    log.line("  report: " + out_dir + "/report.html\n");
    log.line("  summary: " + json_path + "  results: " + out_dir +
             "/results.md, results.csv  checkpoints: " + out_dir +
             (spec->replicates > 1 ? "/seed-*/" : "/") + "*.safetensors\n");
    TrainResult result;
    result.run_dir = out_dir;
    result.summary_path = json_path;
    result.summary_json = summary;
    result.results_table = table;
    for (const auto &run : runs)
      for (size_t e = 0; e < run["epochs"].size(); ++e)
        result.epochs.push_back(
            epoch_metrics(run, e, run.value("replicate", int64_t{0}), spec->epochs));
    return result;
  }
}

}  // namespace snnc::driver

namespace snnc {

TrainResult Program::train(const TrainOptions &options) const {
  return driver::train_experiment(*impl_, options);
}

}  // namespace snnc
