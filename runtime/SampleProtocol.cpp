// SampleProtocol.cpp — the learn / assign / test phases of a sample protocol.
#include "SampleProtocol.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "train/Dataset.h"

namespace snnc::rt {
namespace {

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class Runner {
 public:
  Runner(SimInstance &sim, const SimSpec &spec, const ProtocolSpec &p)
      : sim_(sim), spec_(spec), p_(p), rates_(sim.stimulus_rates(p.stimulus)) {
    if (p.count_group >= 0) counts_.assign(spec.groups.at(p.count_group).size, 0);
    if (p.classify_group >= 0) classify_counts_.assign(spec.groups.at(p.classify_group).size, 0);
  }

  /// Shows sample `k` of `data` (with the repetition rule) and rests; returns the
  /// classify group's spike counts during its last presentation.
  const std::vector<int32_t> &show(const Dataset &data, int64_t k, ProtocolResult &r) {
    const int64_t n = data.features();
    const uint8_t *pixels = data.pixels.data() + k * n;
    double max_rate = p_.max_rate;
    for (int attempt = 0;; ++attempt) {
      for (int64_t j = 0; j < n; ++j) rates_[j] = pixels[j] / 255.0 * max_rate;
      present();
      if (p_.repeat_below <= 0 || total(counts_) >= p_.repeat_below) break;
      if (attempt + 1 >= p_.max_repeats) {
        ++r.silent;
        break;
      }
      ++r.repetitions;
      max_rate += p_.boost;
      rest();
    }
    rest();
    return classify_counts_;
  }

  int64_t steps() const { return step_; }

  void normalise() {
    if (p_.normalise < 0) return;
    const ConnectivitySpec &c = spec_.connections.at(p_.normalise);
    const auto *row_ptr = static_cast<const int64_t *>(sim_.buffer(c.row_ptr_buffer));
    const auto *col = static_cast<const int32_t *>(sim_.buffer(c.col_buffer));
    auto *w = static_cast<double *>(sim_.buffer(p_.normalise_weights));
    const int64_t nnz = row_ptr[c.n_pre];
    std::vector<double> sum(c.n_post, 0.0);
    for (int64_t s = 0; s < nnz; ++s) sum[col[s]] += w[s];
    for (double &x : sum) x = x > 0 ? p_.normalise_total / x : 1.0;
    for (int64_t s = 0; s < nnz; ++s) w[s] *= sum[col[s]];
  }

 private:
  SimInstance &sim_;
  const SimSpec &spec_;
  const ProtocolSpec &p_;
  std::vector<double> &rates_;
  std::vector<int32_t> counts_, classify_counts_;
  int64_t step_ = 0;

  static int64_t total(const std::vector<int32_t> &v) {
    int64_t t = 0;
    for (int32_t x : v) t += x;
    return t;
  }

  void present() {
    std::fill(counts_.begin(), counts_.end(), 0);
    std::fill(classify_counts_.begin(), classify_counts_.end(), 0);
    if (p_.count_group >= 0) sim_.count_spikes(p_.count_group, &counts_);
    if (p_.classify_group >= 0 && p_.classify_group != p_.count_group)
      sim_.count_spikes(p_.classify_group, &classify_counts_);
    sim_.run(step_, p_.present_steps);
    step_ += p_.present_steps;
    if (p_.count_group >= 0) sim_.count_spikes(p_.count_group, nullptr);
    if (p_.classify_group >= 0) sim_.count_spikes(p_.classify_group, nullptr);
    if (p_.classify_group >= 0 && p_.classify_group == p_.count_group) classify_counts_ = counts_;
  }

  void rest() {
    std::fill(rates_.begin(), rates_.end(), 0.0);
    if (p_.rest_steps > 0) sim_.run(step_, p_.rest_steps);
    step_ += p_.rest_steps;
  }
};

void check_data(const Dataset &d, const SimSpec &spec, const ProtocolSpec &p, int64_t wanted,
                const char *phase) {
  const int64_t size = spec.groups.at(spec.stimulus_groups.at(p.stimulus)).size;
  if (d.features() != size)
    throw std::runtime_error("the stimulus source '" +
                             spec.groups.at(spec.stimulus_groups.at(p.stimulus)).name + "' has " +
                             std::to_string(size) + " neurons but the images of '" + p.data_dir +
                             "' have " + std::to_string(d.features()) + " pixels");
  if (d.pixels.empty())
    throw std::runtime_error("'" + p.data_dir + "': the protocol needs 8-bit images");
  if (wanted > d.count)
    throw std::runtime_error(std::string(phase) + " asks for " + std::to_string(wanted) +
                             " images; '" + p.data_dir + "' has " + std::to_string(d.count));
}

}  // namespace

std::vector<int32_t> assign_labels(const std::vector<std::vector<int32_t>> &responses,
                                   const std::vector<int32_t> &labels, int32_t classes,
                                   int64_t neurons) {
  std::vector<double> sum(static_cast<size_t>(classes) * neurons, 0.0);
  std::vector<int64_t> per_class(classes, 0);
  for (size_t k = 0; k < responses.size(); ++k) {
    const int32_t c = labels[k];
    ++per_class[c];
    for (int64_t j = 0; j < neurons; ++j) sum[c * neurons + j] += responses[k][j];
  }
  std::vector<int32_t> assignment(neurons, -1);
  for (int64_t j = 0; j < neurons; ++j) {
    double best = 0;
    for (int32_t c = 0; c < classes; ++c) {
      if (!per_class[c]) continue;
      double mean = sum[c * neurons + j] / per_class[c];
      if (mean > best) {
        best = mean;
        assignment[j] = c;
      }
    }
  }
  return assignment;
}

int32_t vote(const std::vector<int32_t> &counts, const std::vector<int32_t> &assignment,
             int32_t classes) {
  std::vector<double> sum(classes, 0.0);
  std::vector<int64_t> members(classes, 0);
  for (size_t j = 0; j < counts.size(); ++j)
    if (assignment[j] >= 0) {
      sum[assignment[j]] += counts[j];
      ++members[assignment[j]];
    }
  int32_t best = -1;
  double best_mean = -1;
  for (int32_t c = 0; c < classes; ++c) {
    if (!members[c]) continue;
    double mean = sum[c] / members[c];
    if (mean > best_mean) {
      best_mean = mean;
      best = c;
    }
  }
  return best;
}

std::vector<double> fit_readout(const std::vector<std::vector<double>> &x,
                                const std::vector<int32_t> &labels, int32_t classes, double ridge) {
  const size_t n = x.size(), f = n ? x[0].size() + 1 : 1;  // + a bias feature
  std::vector<double> a(f * f, 0.0), b(f * classes, 0.0);
  std::vector<double> row(f);
  for (size_t k = 0; k < n; ++k) {
    std::copy(x[k].begin(), x[k].end(), row.begin());
    row[f - 1] = 1.0;
    for (size_t i = 0; i < f; ++i) {
      if (row[i] == 0) continue;
      for (size_t j = 0; j < f; ++j) a[i * f + j] += row[i] * row[j];
      b[i * classes + labels[k]] += row[i];
    }
  }
  double trace = 0;
  for (size_t i = 0; i < f; ++i) trace += a[i * f + i];
  const double lambda = ridge * std::max(trace / f, 1e-12);
  for (size_t i = 0; i < f; ++i) a[i * f + i] += lambda;
  // Cholesky: a = L L^T (positive definite by the ridge term), then two triangular solves
  for (size_t j = 0; j < f; ++j) {
    double d = a[j * f + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * f + k] * a[j * f + k];
    d = std::sqrt(std::max(d, 1e-300));
    a[j * f + j] = d;
    for (size_t i = j + 1; i < f; ++i) {
      double s = a[i * f + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * f + k] * a[j * f + k];
      a[i * f + j] = s / d;
    }
  }
  for (int32_t c = 0; c < classes; ++c) {
    for (size_t i = 0; i < f; ++i) {  // L y = b
      double s = b[i * classes + c];
      for (size_t k = 0; k < i; ++k) s -= a[i * f + k] * b[k * classes + c];
      b[i * classes + c] = s / a[i * f + i];
    }
    for (size_t i = f; i-- > 0;) {  // L^T w = y
      double s = b[i * classes + c];
      for (size_t k = i + 1; k < f; ++k) s -= a[k * f + i] * b[k * classes + c];
      b[i * classes + c] = s / a[i * f + i];
    }
  }
  return b;
}

int32_t read_out(const std::vector<double> &w, const std::vector<double> &x, int32_t classes) {
  int32_t best = 0;
  double best_score = -1e300;
  for (int32_t c = 0; c < classes; ++c) {
    double s = w[x.size() * classes + c];  // the bias row
    for (size_t i = 0; i < x.size(); ++i) s += x[i] * w[i * classes + c];
    if (s > best_score) {
      best_score = s;
      best = c;
    }
  }
  return best;
}

ProtocolResult run_protocol(SimInstance &sim, const SimSpec &spec, const ProtocolSpec &p,
                            const ProtocolProgressFn &progress) {
  ProtocolResult r;
  Dataset train = load_mnist_like(p.data_dir, true);
  check_data(train, spec, p, std::max(p.learn_images, p.assign_images), "the protocol");
  r.sample_shape = train.sample_shape;
  Runner run(sim, spec, p);
  auto report = [&](const char *phase, int64_t done, int64_t total) {
    if (progress && (done == total || done % 100 == 0)) progress(phase, done, total);
  };

  auto t0 = std::chrono::steady_clock::now();
  if (p.learning_param >= 0) sim.set_param(p.learning_param, 1.0);
  for (int64_t k = 0; k < p.learn_images; ++k) {
    run.normalise();
    run.show(train, k, r);
    ++r.learned;
    report("learn", k + 1, p.learn_images);
  }
  run.normalise();
  r.learn_seconds = seconds(t0);
  r.steps = run.steps();
  if (p.classify_group < 0) return r;

  if (p.learning_param >= 0) sim.set_param(p.learning_param, 0.0);
  const int64_t neurons = spec.groups.at(p.classify_group).size;
  t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> responses;
  std::vector<int32_t> labels;
  for (int64_t k = 0; k < p.assign_images; ++k) {
    responses.push_back(run.show(train, k, r));
    labels.push_back(train.labels[k]);
    ++r.assigned;
    report("assign", k + 1, p.assign_images);
  }
  auto as_features = [](const std::vector<int32_t> &counts) {
    return std::vector<double>(counts.begin(), counts.end());
  };
  auto pixels_of = [](const Dataset &d, int64_t k) {
    const int64_t n = d.features();
    std::vector<double> x(n);
    for (int64_t j = 0; j < n; ++j) x[j] = d.pixels[k * n + j] / 255.0;
    return x;
  };
  std::vector<double> readout, input_readout;
  if (p.linear_readout) {
    std::vector<std::vector<double>> x, raw;
    for (size_t k = 0; k < responses.size(); ++k) {
      x.push_back(as_features(responses[k]));
      raw.push_back(pixels_of(train, static_cast<int64_t>(k)));
    }
    readout = fit_readout(x, labels, train.classes, p.ridge);
    input_readout = fit_readout(raw, labels, train.classes, p.ridge);
  } else {
    r.assignment = assign_labels(responses, labels, train.classes, neurons);
  }
  r.assign_seconds = seconds(t0);
  r.steps = run.steps();

  if (p.test_images <= 0) return r;
  Dataset test = load_mnist_like(p.data_dir, false);
  check_data(test, spec, p, p.test_images, "the test phase");
  t0 = std::chrono::steady_clock::now();
  int64_t input_correct = 0;
  for (int64_t k = 0; k < p.test_images; ++k) {
    const std::vector<int32_t> &counts = run.show(test, k, r);
    const int32_t predicted = p.linear_readout
                                  ? read_out(readout, as_features(counts), test.classes)
                                  : vote(counts, r.assignment, test.classes);
    if (p.linear_readout)
      input_correct += read_out(input_readout, pixels_of(test, k), test.classes) == test.labels[k];
    r.predictions.push_back(predicted);
    r.labels.push_back(test.labels[k]);
    r.correct += predicted == test.labels[k];
    ++r.tested;
    report("test", k + 1, p.test_images);
  }
  r.test_seconds = seconds(t0);
  r.steps = run.steps();
  if (p.linear_readout && r.tested) r.input_accuracy = double(input_correct) / r.tested;
  return r;
}

}  // namespace snnc::rt
