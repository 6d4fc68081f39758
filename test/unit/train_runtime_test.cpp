// Training runtime units: IDX reading (raw and gzip, every error with path and byte offset),
// data sets and the prefetching batch loader, Adam / SGD / clipping / schedules against
// hand-computed updates, and safetensors round trips and corrupt files. Everything runs on
// small files generated here; the real data sets are not needed.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <stdexcept>

#include "train/Dataset.h"
#include "train/Idx.h"
#include "train/Optimizer.h"
#include "train/Safetensors.h"

using namespace snnc::rt;
namespace fs = std::filesystem;

namespace {

/// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("snnc_train_" + std::to_string(getpid()) + "_" +
                                         info->test_suite_name() + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string &name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

std::string idx_bytes(const std::vector<uint32_t> &dims, const std::vector<uint8_t> &data,
                      uint8_t type = 0x08) {
  std::string b = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) b += static_cast<char>((d >> shift) & 0xff);
  b.append(data.begin(), data.end());
  return b;
}

void write_bytes(const std::string &path, const std::string &bytes, bool gzip = false) {
  if (gzip) {
    gzFile gz = gzopen(path.c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    if (!bytes.empty()) {
      ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())),
                static_cast<int>(bytes.size()));
    }
    ASSERT_EQ(gzclose(gz), Z_OK);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The message of the std::runtime_error that `f` throws ("" when it does not throw).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

std::vector<uint8_t> iota_bytes(size_t n, uint8_t start = 0) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// IDX

TEST(TrainIdx, RawAndGzipRoundTrip) {
  TempDir dir;
  auto data = iota_bytes(3 * 2 * 4, 7);
  for (bool gz : {false, true}) {
    std::string path = dir.file(gz ? "a.idx.gz" : "a.idx");
    write_bytes(path, idx_bytes({3, 2, 4}, data), gz);
    IdxArray a = read_idx(path);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 4}));
    EXPECT_EQ(a.data, data);
  }
}

TEST(TrainIdx, TruncatedHeaderNamesPathAndByte) {
  TempDir dir;
  std::string path = dir.file("short.idx");
  write_bytes(path, std::string("\0\0\x08", 3));
  std::string msg = error_of([&] { read_idx(path); });
  EXPECT_EQ(msg.rfind(path + ": byte ", 0), 0u) << msg;
  EXPECT_NE(msg.find("truncated header"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 bytes"), std::string::npos) << msg;

  // the magic is complete but the dimensions are not
  write_bytes(path, idx_bytes({5, 5}, {}).substr(0, 9));
  msg = error_of([&] { read_idx(path); });
  EXPECT_EQ(msg.rfind(path + ": byte 9: ", 0), 0u) << msg;
}

TEST(TrainIdx, TruncatedAndOversizedData) {
  TempDir dir;
  std::string path = dir.file("x.idx");
  write_bytes(path, idx_bytes({4, 3}, iota_bytes(10)));
  std::string msg = error_of([&] { read_idx(path); });
  EXPECT_EQ(msg.rfind(path + ": byte 22: ", 0), 0u) << msg;  // 12-byte header + 10 bytes
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;

  write_bytes(path, idx_bytes({4, 3}, iota_bytes(15)));
  msg = error_of([&] { read_idx(path); });
  EXPECT_EQ(msg.rfind(path + ": byte 24: ", 0), 0u) << msg;  // extra data starts after 12 + 12
  EXPECT_NE(msg.find("3 unexpected bytes"), std::string::npos) << msg;

  // the same through gzip: offsets count decompressed bytes
  write_bytes(path, idx_bytes({4, 3}, iota_bytes(10)), true);
  msg = error_of([&] { read_idx(path); });
  EXPECT_EQ(msg.rfind(path + ": byte 22: ", 0), 0u) << msg;
}

TEST(TrainIdx, BadMagicTypeAndDimensions) {
  TempDir dir;
  std::string path = dir.file("bad.idx");
  auto expect_error = [&](const std::string &bytes, const std::string &prefix,
                          const std::string &words) {
    write_bytes(path, bytes);
    std::string msg = error_of([&] { read_idx(path); });
    EXPECT_EQ(msg.rfind(path + ": byte " + prefix, 0), 0u) << msg;
    EXPECT_NE(msg.find(words), std::string::npos) << msg;
  };
  std::string good = idx_bytes({2, 2}, iota_bytes(4));
  expect_error("PK" + good.substr(2), "0: ", "magic");
  expect_error(idx_bytes({2, 2}, std::vector<uint8_t>(16), 0x0D), "2: ", "0x0d");
  expect_error(idx_bytes({2, 2}, std::vector<uint8_t>(16), 0x0D), "2: ", "float32");
  expect_error(idx_bytes({2, 2}, std::vector<uint8_t>(4), 0x42), "2: ", "0x42");
  expect_error(idx_bytes({}, {}), "3: ", "dimensions");
  expect_error(idx_bytes({2, 0, 3}, {}), "8: ", "dimension 1 is zero");
  expect_error(idx_bytes({65536, 65536, 65536}, {}), "", "large");
  // a product that wraps around 2^64 must not look small
  expect_error(idx_bytes({1u << 17, 1u << 17, 1u << 30}, iota_bytes(4)), "", "large");
}

TEST(TrainIdx, MissingFileAndCorruptGzip) {
  TempDir dir;
  std::string missing = dir.file("none.idx");
  std::string msg = error_of([&] { read_idx(missing); });
  EXPECT_EQ(msg.rfind(missing + ": ", 0), 0u) << msg;

  std::string path = dir.file("cut.idx.gz");
  write_bytes(path, idx_bytes({50, 40}, iota_bytes(2000)), true);
  std::string gz = read_bytes(path);
  write_bytes(path, gz.substr(0, gz.size() / 2));
  msg = error_of([&] { read_idx(path); });
  EXPECT_EQ(msg.rfind(path + ": byte ", 0), 0u) << msg;
}

TEST(TrainIdx, ArbitraryBytesNeverCrash) {
  TempDir dir;
  std::mt19937 gen(1234);
  std::string good = idx_bytes({3, 2, 4}, iota_bytes(24));
  std::string raw = dir.file("f.idx"), gz = dir.file("f.idx.gz");
  write_bytes(gz, good, true);
  std::string good_gz = read_bytes(gz);
  auto run = [&](const std::string &path, const std::string &bytes) {
    write_bytes(path, bytes);
    try {
      IdxArray a = read_idx(path);
      int64_t n = 1;
      for (int64_t d : a.dims) n *= d;
      EXPECT_EQ(n, static_cast<int64_t>(a.data.size()));
    } catch (const std::runtime_error &e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
    }
  };
  for (size_t n = 0; n <= good.size(); ++n) run(raw, good.substr(0, n));
  for (size_t n = 0; n < good_gz.size(); ++n) run(gz, good_gz.substr(0, n));
  for (int i = 0; i < 300; ++i) {
    const std::string &base = i % 2 ? good_gz : good;
    std::string b = base;
    int flips = 1 + static_cast<int>(gen() % 4);
    for (int k = 0; k < flips; ++k) b[gen() % b.size()] = static_cast<char>(gen());
    run(i % 2 ? gz : raw, b);
  }
}

// ---------------------------------------------------------------------------------------
// Data sets

namespace {

/// Writes `count` 3x2 images (pixel k of image i = 10 i + k) and labels i % 10.
void write_pair(const std::string &images, const std::string &labels, uint32_t count,
                bool gzip = false, uint32_t label_count = 0) {
  std::vector<uint8_t> pixels, classes;
  for (uint32_t i = 0; i < count; ++i)
    for (uint32_t k = 0; k < 6; ++k) pixels.push_back(static_cast<uint8_t>((10 * i + k) % 256));
  if (!label_count) label_count = count;
  for (uint32_t i = 0; i < label_count; ++i) classes.push_back(static_cast<uint8_t>(i % 10));
  write_bytes(images, idx_bytes({count, 3, 2}, pixels), gzip);
  write_bytes(labels, idx_bytes({label_count}, classes), gzip);
}

Dataset numbered_dataset(int64_t count, int64_t features = 2) {
  Dataset d;
  d.name = "numbered";
  d.sample_shape = {features};
  d.count = count;
  for (int64_t i = 0; i < count; ++i)
    for (int64_t f = 0; f < features; ++f) d.images.push_back(static_cast<float>(i * 100 + f));
  for (int64_t i = 0; i < count; ++i) d.labels.push_back(static_cast<int32_t>(i % 10));
  return d;
}

/// Every index handed out in one epoch, in order.
std::vector<int64_t> epoch_order(BatchLoader &loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<int64_t> order;
  Batch b;
  while (loader.next(b)) order.insert(order.end(), b.indices.begin(), b.indices.end());
  return order;
}

}  // namespace

TEST(TrainDataset, LoadsPairScaledChannelsFirst) {
  TempDir dir;
  write_pair(dir.file("i"), dir.file("l"), 12);
  Dataset d = load_idx_pair(dir.file("i"), dir.file("l"), "tiny");
  EXPECT_EQ(d.name, "tiny");
  EXPECT_EQ(d.count, 12);
  EXPECT_EQ(d.sample_shape, (std::vector<int64_t>{1, 3, 2}));
  ASSERT_EQ(d.pixels.size(), 72u);  // kept as bytes, read as pixel / 255
  std::vector<float> images(d.pixels.size());
  d.copy_images(0, d.count, images.data());
  EXPECT_FLOAT_EQ(images[6 * 5 + 4], 54.f / 255.f);
  float one[6];
  d.copy_images(5, 1, one);
  EXPECT_FLOAT_EQ(one[4], 54.f / 255.f);
  EXPECT_EQ(d.labels[11], 1);
  EXPECT_EQ(d.classes, 10);
}

TEST(TrainDataset, CountMismatchAndBadLabels) {
  TempDir dir;
  write_pair(dir.file("i"), dir.file("l"), 12, false, 11);
  std::string msg = error_of([&] { load_idx_pair(dir.file("i"), dir.file("l"), "x"); });
  EXPECT_NE(msg.find(dir.file("l")), std::string::npos) << msg;
  EXPECT_NE(msg.find("11 labels for 12 images"), std::string::npos) << msg;

  write_bytes(dir.file("l"), idx_bytes({12}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0}));
  msg = error_of([&] { load_idx_pair(dir.file("i"), dir.file("l"), "x"); });
  EXPECT_EQ(msg.rfind(dir.file("l") + ": byte 18: ", 0), 0u) << msg;  // 8-byte header + 10
}

TEST(TrainDataset, FindsMnistNamesRawGzipAndDotted) {
  TempDir dir;
  write_pair(dir.file("train-images-idx3-ubyte.gz"), dir.file("train-labels-idx1-ubyte.gz"), 20,
             true);
  write_pair(dir.file("t10k-images.idx3-ubyte"), dir.file("t10k-labels.idx1-ubyte"), 5);
  Dataset train = load_mnist_like(dir.str(), true), test = load_mnist_like(dir.str(), false);
  EXPECT_EQ(train.count, 20);
  EXPECT_EQ(test.count, 5);
  EXPECT_EQ(test.sample_shape, (std::vector<int64_t>{1, 3, 2}));

  TempDir empty;
  std::string msg = error_of([&] { load_mnist_like(empty.str() + "/nowhere", true); });
  EXPECT_NE(msg.find(empty.str() + "/nowhere/train-images-idx3-ubyte"), std::string::npos) << msg;
  EXPECT_NE(msg.find(".gz"), std::string::npos) << msg;
}

TEST(TrainDataset, Subset) {
  Dataset d = numbered_dataset(10, 3);
  Dataset s = subset(d, 4, 3);
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.labels, (std::vector<int32_t>{4, 5, 6}));
  EXPECT_EQ(s.images.front(), 400.f);
  EXPECT_EQ(s.images.back(), 602.f);
  EXPECT_NE(error_of([&] { subset(d, 8, 3); }), "");
  EXPECT_NE(error_of([&] { subset(d, -1, 3); }), "");
}

TEST(TrainBatchLoader, EverySampleOncePerEpochWithMatchingData) {
  Dataset d = numbered_dataset(103);
  BatchLoader loader(d, 10, true, 42);
  EXPECT_EQ(loader.batches_per_epoch(), 11);
  loader.start_epoch(0);
  Batch b;
  std::vector<int64_t> seen;
  int64_t batches = 0;
  while (loader.next(b)) {
    ++batches;
    EXPECT_EQ(b.size, batches == 11 ? 3 : 10);
    ASSERT_EQ(b.images.size(), static_cast<size_t>(2 * b.size));
    for (int64_t k = 0; k < b.size; ++k) {
      int64_t i = b.indices[k];
      EXPECT_EQ(b.images[2 * k], static_cast<float>(100 * i));
      EXPECT_EQ(b.images[2 * k + 1], static_cast<float>(100 * i + 1));
      EXPECT_EQ(b.labels[k], i % 10);
      seen.push_back(i);
    }
  }
  EXPECT_EQ(batches, 11);
  EXPECT_FALSE(loader.next(b));
  std::vector<int64_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(103);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
  EXPECT_NE(seen, all);  // shuffled
}

TEST(TrainBatchLoader, OrderDependsOnlyOnSeedAndEpoch) {
  Dataset d = numbered_dataset(64);
  BatchLoader a(d, 7, true, 5), b(d, 7, true, 5), other_seed(d, 7, true, 6);
  auto a1 = epoch_order(a, 1);
  EXPECT_EQ(epoch_order(b, 0), epoch_order(a, 0));
  EXPECT_EQ(epoch_order(b, 1), a1);
  EXPECT_EQ(epoch_order(a, 1), a1);  // repeating an epoch repeats its order
  EXPECT_NE(epoch_order(a, 2), a1);
  EXPECT_NE(epoch_order(other_seed, 1), a1);
  BatchLoader sequential(d, 7, false, 5);
  std::vector<int64_t> all(64);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(epoch_order(sequential, 3), all);
}

TEST(TrainBatchLoader, DropLast) {
  Dataset d = numbered_dataset(23);
  BatchLoader loader(d, 5, true, 1, true);
  EXPECT_EQ(loader.batches_per_epoch(), 4);
  auto order = epoch_order(loader, 0);
  EXPECT_EQ(order.size(), 20u);
  BatchLoader too_big(d, 30, true, 1, true);
  EXPECT_EQ(too_big.batches_per_epoch(), 0);
  EXPECT_TRUE(epoch_order(too_big, 0).empty());
  BatchLoader keep(d, 30, true, 1);
  EXPECT_EQ(epoch_order(keep, 0).size(), 23u);
}

TEST(TrainBatchLoader, RestartAndDestroyMidEpoch) {
  Dataset d = numbered_dataset(200, 16);
  auto full = [&] {
    BatchLoader l(d, 8, true, 9);
    return epoch_order(l, 4);
  }();
  for (int trial = 0; trial < 20; ++trial) {
    BatchLoader loader(d, 8, true, 9);
    loader.start_epoch(2);
    Batch b;
    for (int k = 0; k < trial % 5; ++k) ASSERT_TRUE(loader.next(b));
    EXPECT_EQ(epoch_order(loader, 4), full);  // restarting mid-epoch
    loader.start_epoch(1);
    for (int k = 0; k < trial % 3; ++k) ASSERT_TRUE(loader.next(b));
  }  // destroyed mid-epoch with a batch being prefetched
}

TEST(TrainBatchLoader, RejectsMisuse) {
  Dataset d = numbered_dataset(10);
  EXPECT_THROW(BatchLoader(d, 0, true, 1), std::runtime_error);
  BatchLoader loader(d, 3, true, 1);
  Batch b;
  EXPECT_THROW(loader.next(b), std::logic_error);  // before start_epoch
}

// ---------------------------------------------------------------------------------------
// Optimizers

TEST(TrainOptimizer, AdamTwoStepsByHand) {
  float p = 1.f, g = 0.5f;
  auto adam = make_adam(0.1);
  std::vector<ParamRef> params = {{"w", &p, &g, 1}};
  adam->step(params);
  // step 1: m = 0.05, v = 0.00025, m^ = 0.5, v^ = 0.25 -> p = 1 - 0.1 * 0.5 / (0.5 + 1e-8)
  double expected = 1 - 0.1 * 0.5 / (0.5 + 1e-8);
  EXPECT_NEAR(p, expected, 1e-7);
  g = -0.25f;
  adam->step(params);
  // step 2: m = 0.9 * 0.05 + 0.1 * -0.25 = 0.02, v = 0.999 * 0.00025 + 0.001 * 0.0625
  double m = 0.02, v = 0.999 * 0.00025 + 0.001 * 0.0625;
  double denom = std::sqrt(v) / std::sqrt(1 - 0.999 * 0.999) + 1e-8;
  expected -= 0.1 / (1 - 0.9 * 0.9) * m / denom;
  EXPECT_NEAR(p, expected, 1e-6);
  EXPECT_EQ(adam->steps(), 2);
}

TEST(TrainOptimizer, AdamWeightDecayAddsToGradient) {
  float p = 2.f, g = 0.f;
  auto adam = make_adam(0.01, 0.9, 0.999, 1e-8, 0.5);
  std::vector<ParamRef> params = {{"w", &p, &g, 1}};
  adam->step(params);
  // the effective gradient is 0 + 0.5 * 2 = 1; the first Adam step moves by lr * sign
  EXPECT_NEAR(p, 2 - 0.01 * 1 / (1 + 1e-8), 1e-7);
}

TEST(TrainOptimizer, AdamStateRoundTripContinuesIdentically) {
  std::vector<float> w = {0.3f, -1.2f, 2.f}, grad(3);
  std::vector<float> w2;
  auto a = make_adam(0.05);
  std::vector<ParamRef> pa = {{"fc.weight", w.data(), grad.data(), 3}};
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 3; ++i) grad[i] = std::sin(1.f + s + i) * w[i];
    a->step(pa);
  }
  auto state = a->state();
  auto has = [&](const std::string &key) {
    return std::any_of(state.begin(), state.end(), [&](auto &kv) { return kv.first == key; });
  };
  EXPECT_TRUE(has("fc.weight.exp_avg"));
  EXPECT_TRUE(has("fc.weight.exp_avg_sq"));
  w2 = w;
  auto b = make_adam(0.05);
  b->load_state(state);
  EXPECT_EQ(b->steps(), 3);
  std::vector<float> grad2(3);
  std::vector<ParamRef> pb = {{"fc.weight", w2.data(), grad2.data(), 3}};
  for (int i = 0; i < 3; ++i) grad[i] = grad2[i] = 0.1f * (i + 1);
  a->step(pa);
  b->step(pb);
  EXPECT_EQ(w, w2);
  // state of the wrong size is refused rather than silently resized
  auto c = make_adam(0.05);
  auto bad = state;
  for (auto &kv : bad)
    if (kv.first == "fc.weight.exp_avg") kv.second.push_back(0.f);
  c->load_state(bad);
  EXPECT_THROW(c->step(pb), std::runtime_error);
}

TEST(TrainOptimizer, SgdMomentumAndWeightDecay) {
  float p = 1.f, g = 1.f;
  auto sgd = make_sgd(0.1, 0.9);
  std::vector<ParamRef> params = {{"w", &p, &g, 1}};
  sgd->step(params);  // buf = 1, p = 0.9
  EXPECT_FLOAT_EQ(p, 0.9f);
  sgd->step(params);  // buf = 0.9 + 1 = 1.9, p = 0.9 - 0.19
  EXPECT_FLOAT_EQ(p, 0.71f);
  auto state = sgd->state();
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].first, "w.momentum_buffer");
  EXPECT_FLOAT_EQ(state[0].second[0], 1.9f);

  float q = 2.f, h = 0.5f;
  auto plain = make_sgd(0.1, 0, 0.25);
  std::vector<ParamRef> qp = {{"q", &q, &h, 1}};
  plain->step(qp);  // g = 0.5 + 0.25 * 2 = 1
  EXPECT_FLOAT_EQ(q, 1.9f);
  EXPECT_TRUE(plain->state().empty());
}

TEST(TrainOptimizer, ClipGradNorm) {
  std::vector<float> a = {3.f}, b = {0.f, 4.f}, va(1), vb(2);
  std::vector<ParamRef> params = {{"a", va.data(), a.data(), 1}, {"b", vb.data(), b.data(), 2}};
  EXPECT_DOUBLE_EQ(clip_grad_norm(params, 10), 5);
  EXPECT_EQ(a[0], 3.f);
  EXPECT_DOUBLE_EQ(clip_grad_norm(params, 1), 5);
  EXPECT_NEAR(a[0], 0.6, 1e-6);
  EXPECT_NEAR(b[1], 0.8, 1e-6);
  EXPECT_NEAR(clip_grad_norm(params, 1), 1, 1e-6);
}

TEST(TrainOptimizer, Schedules) {
  EXPECT_DOUBLE_EQ(scheduled_lr("constant", 0.1, 7, 10), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_lr("cosine", 0.1, 0, 10), 0.1);
  EXPECT_NEAR(scheduled_lr("cosine", 0.1, 5, 10), 0.05, 1e-12);
  EXPECT_NEAR(scheduled_lr("cosine", 0.1, 10, 10), 0, 1e-12);
  EXPECT_DOUBLE_EQ(scheduled_lr("step", 1, 2, 9), 1);
  EXPECT_NEAR(scheduled_lr("step", 1, 3, 9), 0.1, 1e-12);
  EXPECT_NEAR(scheduled_lr("step", 1, 8, 9), 0.01, 1e-12);
  std::string msg = error_of([] { scheduled_lr("linear", 1, 0, 3); });
  EXPECT_NE(msg.find("'linear'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cosine"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------------------
// Safetensors

namespace {

std::vector<NamedTensor> sample_tensors() {
  return {{"fc1.weight", {2, 3}, {1, 2, 3, 4, 5, 6}},
          {"fc1.bias", {2}, {-0.5f, 0.25f}},
          {"scale", {}, {3.5f}},
          {"empty", {0, 4}, {}}};
}

/// A file with header `json` (padded) and `data_bytes` bytes of data.
std::string safetensors_bytes(const std::string &json, size_t data_bytes) {
  std::string h = json;
  while (h.size() % 8) h += ' ';
  std::string b(8, '\0');
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
  return b + h + std::string(data_bytes, '\x01');
}

}  // namespace

TEST(TrainSafetensors, RoundTripWithMetadata) {
  TempDir dir;
  std::string path = dir.file("sub/model.safetensors");
  write_safetensors(path, sample_tensors(), {{"snnc_epoch", "3"}, {"format", "pt"}});
  std::map<std::string, std::string> meta;
  auto back = read_safetensors(path, &meta);
  EXPECT_EQ(meta.at("snnc_epoch"), "3");
  EXPECT_EQ(meta.at("format"), "pt");
  ASSERT_EQ(back.size(), 4u);
  for (const auto &t : sample_tensors()) {
    auto it = std::find_if(back.begin(), back.end(), [&](auto &x) { return x.name == t.name; });
    ASSERT_NE(it, back.end()) << t.name;
    EXPECT_EQ(it->shape, t.shape);
    EXPECT_EQ(it->data, t.data);
  }
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(getpid())));
}

TEST(TrainSafetensors, LayoutFollowsTheFormat) {
  TempDir dir;
  std::string path = dir.file("m.safetensors");
  write_safetensors(path, sample_tensors());
  std::string bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  ASSERT_EQ(bytes.size(), 8 + n + 4 * (6 + 2 + 1));
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["fc1.weight"]["dtype"], "F32");
  EXPECT_EQ(header["fc1.weight"]["shape"], nlohmann::json::array({2, 3}));
  EXPECT_EQ(header["scale"]["shape"], nlohmann::json::array());
  auto offsets = header["fc1.bias"]["data_offsets"];
  float v;
  std::memcpy(&v, bytes.data() + 8 + n + offsets[0].get<uint64_t>() + 4, 4);
  EXPECT_EQ(v, 0.25f);
  EXPECT_FALSE(header.contains("__metadata__"));
}

TEST(TrainSafetensors, WriterRejectsInconsistentTensors) {
  TempDir dir;
  std::string path = dir.file("w.safetensors");
  EXPECT_THROW(write_safetensors(path, {{"a", {2, 2}, {1, 2, 3}}}), std::runtime_error);
  EXPECT_THROW(write_safetensors(path, {{"a", {1}, {1}}, {"a", {1}, {2}}}), std::runtime_error);
  EXPECT_THROW(write_safetensors(path, {{"__metadata__", {1}, {1}}}), std::runtime_error);
  EXPECT_FALSE(fs::exists(path));
}

TEST(TrainSafetensors, CorruptFilesNamePathAndByte) {
  TempDir dir;
  std::string path = dir.file("c.safetensors");
  write_safetensors(path, sample_tensors());
  std::string good = read_bytes(path);
  auto expect_error = [&](const std::string &bytes, const std::string &words) {
    write_bytes(path, bytes);
    std::string msg = error_of([&] { read_safetensors(path); });
    EXPECT_EQ(msg.rfind(path + ": byte ", 0), 0u) << msg;
    EXPECT_NE(msg.find(words), std::string::npos) << msg;
  };
  expect_error(good.substr(0, 5), "truncated");
  expect_error(good.substr(0, good.size() - 3), "outside");
  std::string too_long = good;
  too_long[6] = 1;
  expect_error(too_long, "exceeds the file size");
  expect_error(safetensors_bytes("{\"a\": {", 0), "JSON");
  expect_error(safetensors_bytes("[1, 2]", 0), "not a JSON object");
  expect_error(
      safetensors_bytes(R"({"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", 4),
      "\"F16\"");
  expect_error(
      safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}})", 8),
      "outside");
  expect_error(
      safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}})", 8),
      "outside");
  expect_error(
      safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8),
      "shape");
  expect_error(
      safetensors_bytes(R"({"a": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}})", 8),
      "shape");
  expect_error(safetensors_bytes(
                   R"({"a": {"dtype": "F32", "shape": [4611686018427387904, 4],
                        "data_offsets": [0, 0]}})",
                   8),
               "shape");
  expect_error(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                                 12),
               "overlap");
  expect_error(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [2]}})", 8), "data_offsets");
}

TEST(TrainSafetensors, ArbitraryBytesNeverCrash) {
  std::string good;
  {
    TempDir dir;
    write_safetensors(dir.file("g"), sample_tensors(), {{"k", "v"}});
    good = read_bytes(dir.file("g"));
  }
  std::mt19937 gen(99);
  auto run = [&](const std::string &bytes) {
    try {
      parse_safetensors(bytes, "mem");
    } catch (const std::runtime_error &e) {
      EXPECT_EQ(std::string(e.what()).rfind("mem: byte ", 0), 0u) << e.what();
    }
  };
  for (size_t n = 0; n < good.size(); ++n) run(good.substr(0, n));
  for (int i = 0; i < 2000; ++i) {
    std::string b = good;
    int flips = 1 + static_cast<int>(gen() % 3);
    for (int k = 0; k < flips; ++k) {
      size_t at = gen() % b.size();
      b[at] = gen() % 2 ? static_cast<char>(gen()) : "0123456789[]{},:\"-e"[gen() % 19];
    }
    run(b);
  }
}
