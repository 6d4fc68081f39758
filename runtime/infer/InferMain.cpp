// InferMain.cpp — the `main` of standalone inference binaries built by `snnc build`.
//
// The model comes from the object file snnc emitted: the execution plan (JSON), the
// weights (safetensors bytes) and the compiled cell kernels. This file only reads inputs,
// runs the shared prediction loop (runtime/nn/Inference) and prints results. It links
// against the runtime alone: no LLVM, no compiler.
#include <png.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "BlasCore.h"
#include "Inference.h"
#include "Loss.h"
#include "Network.h"
#include "Plan.h"
#include "Weights.h"
#include "train/Idx.h"
#include "train/Safetensors.h"
#ifdef SNNC_INFER_DEVICE
#include "DeviceNetwork.h"
#endif

extern "C" {
struct snnc_cell_entry {
  const char *name;
  void *forward;
  void *backward;
};
extern const char snnc_model_plan[];
extern const char snnc_model_weights[];
extern const int64_t snnc_model_weights_size;
extern const snnc_cell_entry snnc_model_cells[];
extern const int64_t snnc_model_cell_count;
}

#ifdef SNNC_INFER_DEVICE
// GPU binaries (snnc build --target cuda): the model's CUDA cell launchers, by cell name
extern "C" {
extern const snnc_device_cell_entry snnc_model_device_cells[];  // (DeviceNetwork.h)
extern const int64_t snnc_model_device_cell_count;
}
#endif

using namespace snnc::rt;
using nlohmann::json;

namespace {

#ifdef SNNC_INFER_DEVICE
/// The same prediction as nn::predict (same encoder stream and batches) on the GPU.
std::vector<int32_t> predict_on_device(
    const nn::ModelPlan &plan, nn::Network &net, const float *images, int64_t count,
    const nn::EncoderSpec &e, uint64_t seed, bool by_membrane,
    const std::function<void(const std::vector<float> &, int64_t)> &after_batch, int64_t batch) {
  std::vector<cuda::DeviceCell> cells(net.layers().size());
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    const std::string &cell = plan.layers[i].cell;
    if (net.layers()[i].kind != nn::LayerSpec::Cell) continue;
    for (int64_t c = 0; c < snnc_model_device_cell_count; ++c)
      if (cell == snnc_model_device_cells[c].name)
        cells[i] = {snnc_model_device_cells[c].forward, snnc_model_device_cells[c].backward};
  }
  cuda::DeviceNetwork device(net.layers(), net.output(), cells);
  device.set_params(net.params());
  const int64_t F = net.features(0), K = net.features(net.output());
  return nn::predict_batches(
      [&](int64_t first, int64_t n, float *out) {
        std::copy(images + first * F, images + (first + n) * F, out);
      },
      count, F, e, seed, batch,
      [&](const std::vector<float> &x, const float *, int64_t b) {
        const std::vector<float> y = device.forward(x.data(), e.steps, b);
        auto pred = by_membrane ? nn::predict_by_max_membrane(device.output_state(), e.steps, b, K,
                                                              net.layers()[net.output()].states)
                                : nn::predict_by_count(y, e.steps, b, K);
        after_batch(y, b);
        return pred;
      });
}
#endif

/// The plan's network with the binary's cell kernels attached by cell name.
nn::Network make_network(const nn::ModelPlan &plan) {
  std::vector<nn::LayerSpec> layers = plan.layers;
  for (auto &s : layers) {
    if (s.kind != nn::LayerSpec::Cell) continue;
    for (int64_t c = 0; c < snnc_model_cell_count; ++c)
      if (s.cell == snnc_model_cells[c].name) {
        s.forward = reinterpret_cast<nn::CellForward>(snnc_model_cells[c].forward);
        s.backward = reinterpret_cast<nn::CellBackward>(snnc_model_cells[c].backward);
      }
    if (!s.forward)
      throw std::runtime_error("the binary lacks the kernel of cell '" + s.cell + "'");
  }
  return nn::Network(std::move(layers), plan.output);
}

/// The size of a regular file; anything else (a device, a pipe, a directory) is refused,
/// since its content has no end to check against the model's input size.
int64_t regular_file_size(const std::string &path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(path + ": not a regular file");
  return static_cast<int64_t>(st.st_size);
}

/// The next whitespace-separated word of a PGM header; `#` starts a comment to the end of
/// the line.
std::string pgm_word(std::istream &in) {
  std::string word;
  for (int c = in.get(); c != EOF; c = in.get()) {
    if (c == '#' && word.empty()) {
      while (c != EOF && c != '\n') c = in.get();
    } else if (std::isspace(c)) {
      if (!word.empty()) return word;
    } else {
      word += static_cast<char>(c);
      if (word.size() > 16) break;
    }
  }
  return word;
}

int pgm_number(std::istream &in) {
  std::string word = pgm_word(in);
  if (word.empty() || word.size() > 9 || word.find_first_not_of("0123456789") != word.npos)
    return 0;
  return std::stoi(word);
}

/// A binary PGM (P5, 8-bit) image scaled to [0, 1].
std::vector<float> read_pgm(const std::string &path, int64_t expect) {
  regular_file_size(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::string magic = pgm_word(in);
  int w = pgm_number(in), h = pgm_number(in), maxval = pgm_number(in);  // one whitespace after
  if (magic != "P5" || w <= 0 || h <= 0 || maxval <= 0 || maxval > 255)
    throw std::runtime_error(path + ": byte 0: not an 8-bit binary PGM (P5) image");
  if (static_cast<int64_t>(w) * h != expect)
    throw std::runtime_error(path + ": a " + std::to_string(w) + "x" + std::to_string(h) +
                             " image; the model takes " + std::to_string(expect) + " pixels");
  std::vector<unsigned char> px(static_cast<size_t>(w) * h);
  in.read(reinterpret_cast<char *>(px.data()), static_cast<std::streamsize>(px.size()));
  if (in.gcount() != static_cast<std::streamsize>(px.size()))
    throw std::runtime_error(path + ": byte " + std::to_string(in.tellg()) +
                             ": truncated pixel data");
  std::vector<float> out(px.size());
  for (size_t i = 0; i < px.size(); ++i) out[i] = px[i] / static_cast<float>(maxval);
  return out;
}

/// A PNG image (any bit depth, colour type or interlacing; decoded by libpng) scaled to
/// [0, 1]: the mean of its colour channels, its alpha channel ignored.
std::vector<float> read_png(const std::string &path, int64_t expect) {
  regular_file_size(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  auto failed = [&](const std::string &when) {
    std::string why = image.message[0] ? image.message : "not a readable PNG";
    png_image_free(&image);
    return std::runtime_error(path + ": " + when + ": " + why);
  };
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    throw failed("cannot read the PNG header");
  if (static_cast<uint64_t>(image.width) * image.height != static_cast<uint64_t>(expect)) {
    const std::string size = std::to_string(image.width) + "x" + std::to_string(image.height);
    png_image_free(&image);
    throw std::runtime_error(path + ": a " + size + " image; the model takes " +
                             std::to_string(expect) + " pixels");
  }
  image.format = PNG_FORMAT_RGBA;  // 8-bit sRGB colours as stored, alpha kept apart
  std::vector<unsigned char> rgba(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgba.data(), 0, nullptr))
    throw failed("cannot decode the image");
  std::vector<float> out(static_cast<size_t>(expect));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = (rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / (3 * 255.f);
  return out;
}

bool is_png(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char m[8] = {};
  in.read(m, 8);
  return std::memcmp(m, "\x89PNG\r\n\x1a\n", 8) == 0;
}

/// Raw little-endian float32 values (`.f32`): one or more images of the model's size.
std::vector<float> read_raw_f32(const std::string &path, int64_t expect) {
  int64_t size = regular_file_size(path);
  if (size == 0 || size % (4 * expect) != 0)
    throw std::runtime_error(path + ": byte " + std::to_string(size) + ": " + std::to_string(size) +
                             " bytes is not a whole number of images of " + std::to_string(expect) +
                             " float32 values");
  std::ifstream in(path, std::ios::binary);
  std::vector<float> out(static_cast<size_t>(size / 4));
  in.read(reinterpret_cast<char *>(out.data()), size);
  if (in.gcount() != size)
    throw std::runtime_error(path + ": byte " + std::to_string(in.gcount()) + ": cannot read");
  for (size_t i = 0; i < out.size(); ++i)
    if (!std::isfinite(out[i]))
      throw std::runtime_error(path + ": byte " + std::to_string(4 * i) + ": value " +
                               std::to_string(out[i]) + " is not a finite number");
  return out;
}

bool is_pgm(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char m[2] = {0, 0};
  in.read(m, 2);
  return m[0] == 'P' && m[1] == '5';
}

/// A whole number of at least `least` given to `option`, or a clear error.
/// The options and inputs of a run, parsed with CLI11; its --help describes the model.
struct Options {
  std::vector<std::string> inputs;
  std::string labels_path, weights_path;
  bool counts = false, as_json = false;
  int64_t limit = -1, batch = nn::kPredictBatch;
};

/// A CLI11 check that an option is a whole number >= least, with the message the binary has
/// always given.
CLI::Validator at_least(int64_t least) {
  return CLI::Validator(
      [least](std::string &text) -> std::string {
        size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(text, &used);
        } catch (const std::exception &) {
          used = 0;
        }
        if (used == 0 || used != text.size() || v < least)
          return "needs a whole number >= " + std::to_string(least) + ", not '" + text + "'";
        return "";
      },
      "INT>=" + std::to_string(least));
}

/// Parses argv; returns the exit code when the run is over (help printed, or a usage error
/// reported), else -1.
int parse_options(int argc, char **argv, const nn::ModelPlan &plan, Options &o) {
  CLI::App app(std::string(argv[0]) + " — a spiking network compiled by snnc (network " +
               plan.network + ", " + plan.encoder + " encoding over " + std::to_string(plan.steps) +
               " steps).\nPrints the predicted class of every input, " + "one per line.");
  app.add_option("inputs", o.inputs,
                 "IDX image files (raw or .gz; every image in them), PGM (P5) or PNG images of " +
                     std::to_string(plan.features()) +
                     " pixels, or .f32 files of raw little-endian float32 values in [0, 1]")
      ->required();
  app.add_option("--labels", o.labels_path,
                 "IDX labels for the IDX input: also report the accuracy");
  app.add_flag("--counts", o.counts, "Print the output spike count of every class too");
  app.add_flag("--json", o.as_json, "Print one JSON object instead of text");
  app.add_option("--weights", o.weights_path,
                 "Use these weights (safetensors) instead of the embedded ones");
  app.add_option("--limit", o.limit, "Use at most N images")->check(at_least(0));
  app.add_option("--batch", o.batch,
                 "Images per forward pass (default 128, as snnc run evaluates; with rate "
                 "encoding another size draws other spike trains)")
      ->check(at_least(1));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::string what = e.what();
    if (what.rfind("--", 0) == 0) what = "option " + what;  // "--batch: needs ..." reads so
    const auto colon = what.find(": ");
    if (what.rfind("option --", 0) == 0 && colon != std::string::npos) what.erase(colon, 1);
    std::fprintf(stderr, "error: %s (see --help)\n", what.c_str());
    return 1;
  }
  return -1;
}

}  // namespace

int main(int argc, char **argv) {
  nn::reexec_for_blas_core(argv);  // before OpenBLAS runs anything: its kernels for this CPU
  try {
    const nn::ModelPlan plan = nn::plan_from_json(snnc_model_plan);
    Options o;
    if (int done = parse_options(argc, argv, plan, o); done >= 0) return done;
    const auto &inputs = o.inputs;
    const std::string &labels_path = o.labels_path, &weights_path = o.weights_path;
    const bool counts = o.counts, as_json = o.as_json;
    const int64_t limit = o.limit, batch = o.batch;
    int64_t F = plan.features();
    std::vector<float> images;
    std::vector<std::string> names;
    for (const auto &path : inputs) {
      regular_file_size(path);  // before peeking at its first bytes: a pipe would block
      if (is_pgm(path) || is_png(path)) {
        auto img = is_pgm(path) ? read_pgm(path, F) : read_png(path, F);
        images.insert(images.end(), img.begin(), img.end());
        names.push_back(path);
        continue;
      }
      if (path.size() > 4 && path.compare(path.size() - 4, 4, ".f32") == 0) {
        auto values = read_raw_f32(path, F);
        images.insert(images.end(), values.begin(), values.end());
        for (size_t k = 0; k < values.size() / F; ++k)
          names.push_back(path + "[" + std::to_string(k) + "]");
        continue;
      }
      IdxArray idx = read_idx(path);
      int64_t per = 1;
      for (size_t d = 1; d < idx.dims.size(); ++d) per *= idx.dims[d];
      if (per != F || idx.dims.size() < 2)
        throw std::runtime_error(path + ": images of " + std::to_string(per) +
                                 " values; the model takes " + std::to_string(F));
      for (uint8_t v : idx.data) images.push_back(v / 255.f);
      for (int64_t k = 0; k < idx.dims[0]; ++k)
        names.push_back(path + "[" + std::to_string(k) + "]");
    }
    int64_t count = static_cast<int64_t>(names.size());
    if (limit >= 0 && limit < count) count = limit;
    auto t0 = std::chrono::steady_clock::now();
    nn::Network net = make_network(plan);
    if (weights_path.empty())
      load_weights(net,
                   parse_safetensors(std::string(snnc_model_weights, snnc_model_weights_size),
                                     "embedded weights"),
                   "embedded weights");
    else
      nn::load_weights(net, read_safetensors(weights_path), weights_path);
    nn::EncoderSpec enc{plan.encoder, plan.steps};
    int64_t K = net.features(net.output());
    std::vector<double> class_counts;
    auto count_classes = [&](const std::vector<float> &y, int64_t b) {
      if (!counts) return;
      for (int64_t k = 0; k < b; ++k)
        for (int64_t c = 0; c < K; ++c) {
          double s = 0;
          for (int64_t t = 0; t < enc.steps; ++t) s += y[(t * b + k) * K + c];
          class_counts.push_back(s);
        }
    };
#ifdef SNNC_INFER_DEVICE
    auto pred = predict_on_device(plan, net, images.data(), count, enc, plan.seed, plan.by_membrane,
                                  count_classes, batch);
#else
    auto pred = nn::predict(
        net, images.data(), count, enc, plan.seed, plan.by_membrane,
        [&](int64_t b) { count_classes(net.activation(net.output()), b); }, batch);
#endif
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<int32_t> labels;
    if (!labels_path.empty()) {
      IdxArray l = read_idx(labels_path);
      if (l.dims.size() != 1 || l.dims[0] < count)
        throw std::runtime_error(labels_path + ": " + std::to_string(l.dims[0]) + " labels for " +
                                 std::to_string(count) + " images");
      labels.assign(l.data.begin(), l.data.begin() + count);
    }
    int64_t correct = 0;
    for (int64_t k = 0; k < static_cast<int64_t>(labels.size()); ++k)
      correct += pred[k] == labels[k];
    if (as_json) {
      json out = {{"network", plan.network}, {"predictions", pred}, {"seconds", seconds}};
      if (!labels.empty()) out["accuracy"] = static_cast<double>(correct) / count;
      if (counts) out["counts"] = class_counts;
      std::cout << out.dump() << "\n";
      return 0;
    }
    for (int64_t k = 0; k < count; ++k) {
      std::cout << names[k] << " " << pred[k];
      if (counts)
        for (int64_t c = 0; c < K; ++c) std::cout << (c ? "," : " ") << class_counts[k * K + c];
      std::cout << "\n";
    }
    if (!labels.empty())
      std::printf("accuracy: %.6f (%lld/%lld)\n", static_cast<double>(correct) / count,
                  static_cast<long long>(correct), static_cast<long long>(count));
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
