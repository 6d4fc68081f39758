// Dataset.h — image classification data sets in memory, and a shuffling batch loader with
// a background prefetch thread. The order of an epoch depends only on (seed, epoch).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace snnc::rt {

struct Dataset {
  std::string name;
  std::vector<int64_t> sample_shape;
  int64_t count = 0;
  /// The samples, count * prod(sample_shape) values: either 8-bit pixels (what the IDX
  /// loaders keep: a quarter of the memory of floats), read as pixel / 255, or floats.
  std::vector<uint8_t> pixels;
  std::vector<float> images;
  std::vector<int32_t> labels;
  int32_t classes = 10;

  int64_t features() const {
    int64_t f = 1;
    for (int64_t x : sample_shape) f *= x;
    return f;
  }
  /// Samples [first, first + n) as floats in `out` (n * features() values).
  void copy_images(int64_t first, int64_t n, float *out) const;
};

Dataset load_idx_pair(const std::string &images_path, const std::string &labels_path,
                      const std::string &name);

/// The MNIST file names in `dir` (`train-images-idx3-ubyte`, `t10k-...`, raw or `.gz`).
Dataset load_mnist_like(const std::string &dir, bool train);

Dataset subset(const Dataset &d, int64_t first, int64_t count);

struct Batch {
  int64_t size = 0;
  std::vector<float> images;  ///< size x features
  std::vector<int32_t> labels;
  std::vector<int64_t> indices;
};

/// Hands out the batches of one epoch at a time; the next batch is copied by a background
/// thread while the caller trains on the current one. Keeps a reference to the data set,
/// which must outlive the loader.
class BatchLoader {
 public:
  BatchLoader(const Dataset &d, int64_t batch, bool shuffle, uint64_t seed, bool drop_last = false);
  ~BatchLoader();
  BatchLoader(const BatchLoader &) = delete;
  BatchLoader &operator=(const BatchLoader &) = delete;
  /// Starts (or restarts) an epoch; its order is a function of (seed, epoch) only.
  void start_epoch(int64_t epoch);
  /// The next batch of the epoch; false at its end. Throws std::logic_error before the
  /// first start_epoch.
  bool next(Batch &out);
  int64_t batches_per_epoch() const;

 private:
  void fill(int64_t index, Batch &b) const;
  void stop();

  const Dataset &data_;
  int64_t batch_;
  bool shuffle_, drop_last_;
  uint64_t seed_;
  std::vector<int64_t> order_;
  int64_t next_ = 0;  ///< next batch index to hand out
  // prefetch: the worker fills `ready_` with batch `ready_index_`
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  Batch ready_;
  int64_t ready_index_ = -1, wanted_ = -1;
  bool quit_ = false, busy_ = false, started_ = false;
};

}  // namespace snnc::rt
