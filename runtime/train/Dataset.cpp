// Dataset.cpp — IDX image/label pairs, subsets, and the prefetching batch loader.
#include "Dataset.h"

#include <filesystem>
#include <numeric>
#include <stdexcept>

#include "Idx.h"
#include "Rng.h"

namespace snnc::rt {

Dataset load_idx_pair(const std::string &images_path, const std::string &labels_path,
                      const std::string &name) {
  IdxArray images = read_idx(images_path), labels = read_idx(labels_path);
  if (images.dims.size() != 3)
    throw std::runtime_error(images_path +
                             ": expected images of 3 dimensions (count, rows, columns), found " +
                             std::to_string(images.dims.size()));
  if (labels.dims.size() != 1)
    throw std::runtime_error(labels_path + ": expected labels of 1 dimension, found " +
                             std::to_string(labels.dims.size()));
  if (labels.dims[0] != images.dims[0])
    throw std::runtime_error(labels_path + ": " + std::to_string(labels.dims[0]) + " labels for " +
                             std::to_string(images.dims[0]) + " images in " + images_path);
  Dataset d;
  d.name = name;
  d.count = images.dims[0];
  d.sample_shape = {1, images.dims[1], images.dims[2]};
  d.pixels = std::move(images.data);  // converted batch by batch (copy_images)
  d.labels.resize(d.count);
  for (int64_t i = 0; i < d.count; ++i) {
    if (labels.data[i] >= d.classes)
      throw std::runtime_error(labels_path + ": byte " + std::to_string(8 + i) + ": label " +
                               std::to_string(labels.data[i]) + " is not a class below " +
                               std::to_string(d.classes));
    d.labels[i] = labels.data[i];
  }
  return d;
}

Dataset load_mnist_like(const std::string &dir, bool train) {
  std::string stem = train ? "train" : "t10k";
  auto find = [&](const std::string &kind) {
    std::vector<std::string> tried;
    for (const char *sep : {"-", "."})
      for (const char *ext : {"", ".gz"}) {
        std::string p = dir + "/" + stem + "-" + kind + sep + (kind == "images" ? "idx3" : "idx1") +
                        "-ubyte" + ext;
        if (std::filesystem::exists(p)) return p;
        tried.push_back(p);
      }
    std::string msg = "no " + std::string(train ? "training" : "test") + " " + kind + " in '" +
                      dir + "' (looked for " + tried[0] +
                      " and .gz); run scripts/install-data.sh or pass --data DIR";
    throw std::runtime_error(msg);
  };
  std::string images = find("images"), labels = find("labels");
  return load_idx_pair(images, labels, dir + (train ? " (train)" : " (test)"));
}

void Dataset::copy_images(int64_t first, int64_t n, float *out) const {
  if (first < 0 || n < 0 || first + n > count)
    throw std::out_of_range("samples [" + std::to_string(first) + ", " + std::to_string(first + n) +
                            ") of '" + name + "' (" + std::to_string(count) + " samples)");
  const int64_t f = features(), begin = first * f, end = (first + n) * f;
  if (!pixels.empty())
    for (int64_t k = begin; k < end; ++k) out[k - begin] = pixels[k] / 255.f;
  else
    std::copy(images.begin() + begin, images.begin() + end, out);
}

Dataset subset(const Dataset &d, int64_t first, int64_t count) {
  if (first < 0 || count < 0 || first > d.count - count)
    throw std::runtime_error("subset [" + std::to_string(first) + ", " +
                             std::to_string(first + count) + ") is out of range for '" + d.name +
                             "' (" + std::to_string(d.count) + " samples)");
  Dataset s;  // field by field: copying d would hold the whole data set's buffers
  s.name = d.name;
  s.sample_shape = d.sample_shape;
  s.classes = d.classes;
  const int64_t f = d.features();
  s.count = count;
  if (!d.pixels.empty())
    s.pixels.assign(d.pixels.begin() + first * f, d.pixels.begin() + (first + count) * f);
  else
    s.images.assign(d.images.begin() + first * f, d.images.begin() + (first + count) * f);
  s.labels.assign(d.labels.begin() + first, d.labels.begin() + first + count);
  return s;
}

BatchLoader::BatchLoader(const Dataset &d, int64_t batch, bool shuffle, uint64_t seed,
                         bool drop_last)
    : data_(d), batch_(batch), shuffle_(shuffle), drop_last_(drop_last), seed_(seed) {
  if (batch < 1) throw std::runtime_error("batch size must be positive");
  worker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return quit_ || (wanted_ >= 0 && wanted_ != ready_index_); });
      if (quit_) return;
      int64_t index = wanted_;
      busy_ = true;
      lock.unlock();
      Batch b;
      fill(index, b);
      lock.lock();
      busy_ = false;
      if (wanted_ == index) {  // still wanted (no new epoch meanwhile)
        ready_ = std::move(b);
        ready_index_ = index;
      }
      cv_.notify_all();
    }
  });
}

BatchLoader::~BatchLoader() {
  stop();
}

void BatchLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

int64_t BatchLoader::batches_per_epoch() const {
  return drop_last_ ? data_.count / batch_ : (data_.count + batch_ - 1) / batch_;
}

void BatchLoader::start_epoch(int64_t epoch) {
  std::unique_lock<std::mutex> lock(mutex_);
  wanted_ = -1;
  cv_.wait(lock, [this] { return !busy_; });  // the worker reads order_: let it finish
  order_.resize(data_.count);
  std::iota(order_.begin(), order_.end(), 0);
  if (shuffle_) {
    Rng rng(seed_, 500 + static_cast<uint64_t>(epoch));
    for (int64_t i = data_.count - 1; i > 0; --i)
      std::swap(order_[i], order_[rng.next() % (i + 1)]);
  }
  next_ = 0;
  started_ = true;
  ready_index_ = -1;
  wanted_ = batches_per_epoch() > 0 ? 0 : -1;
  cv_.notify_all();
}

void BatchLoader::fill(int64_t index, Batch &b) const {
  int64_t f = 1;
  for (int64_t x : data_.sample_shape) f *= x;
  int64_t begin = index * batch_, end = std::min(begin + batch_, data_.count);
  b.size = end - begin;
  b.images.resize(b.size * f);
  b.labels.resize(b.size);
  b.indices.resize(b.size);
  for (int64_t k = 0; k < b.size; ++k) {
    int64_t i = order_[begin + k];
    data_.copy_images(i, 1, b.images.data() + k * f);
    b.labels[k] = data_.labels[i];
    b.indices[k] = i;
  }
}

bool BatchLoader::next(Batch &out) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_) throw std::logic_error("BatchLoader::next called before start_epoch");
  if (next_ >= batches_per_epoch()) return false;
  int64_t index = next_++;
  cv_.wait(lock, [&] { return ready_index_ == index; });
  out = std::move(ready_);
  ready_index_ = -1;
  wanted_ = next_ < batches_per_epoch() ? next_ : -1;  // prefetch the following batch
  cv_.notify_all();
  return true;
}

}  // namespace snnc::rt
