// Parallel.cpp — a small persistent pool: between jobs, workers poll for the next one for
// up to 100 us, then sleep on a condition variable; the calling thread takes the first
// range itself and polls (then sleeps) likewise until the workers are done. An exception
// thrown by the body on any thread is caught, the job still completes on every thread, and
// the first exception is rethrown on the calling thread.
#include "Parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);

#ifndef SNNC_SPIN_US
#define SNNC_SPIN_US 100
#endif
namespace snnc::rt::nn {
namespace {

thread_local bool in_parallel_region = false;

/// How long a thread polls for the next job (a worker) or for the workers to finish (the
/// caller) before it sleeps on the condition variable: jobs come tens of microseconds apart
/// in a forward pass, and a futex wake-up costs about as much again on a VM.
constexpr auto kSpin = std::chrono::microseconds(SNNC_SPIN_US);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Polls `ready` until it holds or kSpin has passed; whether it held.
template <typename Ready>
bool spin_until(Ready ready) {
  if (kSpin.count() == 0) return ready();
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int k = 0;; ++k) {
    if (ready()) return true;
    cpu_relax();
    if ((k & 63) == 63 && std::chrono::steady_clock::now() > until) return ready();
  }
}

class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    openblas_set_num_threads(1);
    for (int k = 1; k < threads_; ++k) workers_.emplace_back([this, k] { work(k); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto &w : workers_) w.join();
  }
  int threads() const { return threads_; }

  void run(int parts, int64_t n, const std::function<void(int64_t, int64_t)> &body) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      n_ = n;
      parts_ = parts;
      pending_ = parts - 1;
      ++generation_;  // (after the job's fields: a polling worker reads them once it sees this)
    }
    if (sleeping_ > 0) wake_.notify_all();
    in_parallel_region = true;
    try {
      body(0, n / parts);
    } catch (...) {
      record(std::current_exception());
    }
    in_parallel_region = false;
    if (!spin_until([&] { return pending_ == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return pending_ == 0; });  // the workers are done with `body`
    }
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> guard(error_mutex_);
      std::swap(error, error_);
    }
    if (error) std::rethrow_exception(error);
  }

 private:
  void work(int k) {
    uint64_t seen = 0;
    in_parallel_region = true;
    for (;;) {
      spin_until([&] { return stop_ || generation_ != seen; });
      std::unique_lock<std::mutex> lock(mutex_);
      if (!stop_ && generation_ == seen) {
        ++sleeping_;
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        --sleeping_;
      }
      if (stop_) return;
      seen = generation_;
      if (k >= parts_) continue;
      const auto *body = body_;
      int64_t n = n_, parts = parts_;
      lock.unlock();
      try {
        (*body)(n * k / parts, n * (k + 1) / parts);
      } catch (...) {
        record(std::current_exception());
      }
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  void record(std::exception_ptr e) {  // keeps the first error of a job
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = e;
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)> *body_ = nullptr;
  int64_t n_ = 0;
  int parts_ = 0;
  // (atomic: read while polling, outside the mutex; written under it)
  std::atomic<int> pending_{0}, sleeping_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
};

Pool &pool() {
  static Pool p(thread_count());
  return p;
}

std::mutex run_mutex;  // one job at a time (callers on different threads queue up)

}  // namespace

int thread_count() {
  static int n = [] {
    if (const char *s = std::getenv("SNNC_THREADS")) {
      int v = std::atoi(s);
      if (v >= 1 && v <= 256) return v;
    }
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }();
  return n;
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body) {
  if (n <= 0) return;
  Pool &workers = pool();  // first use also puts OpenBLAS on one thread
  int64_t parts = std::min<int64_t>(thread_count(), n / std::max<int64_t>(grain, 1));
  if (parts <= 1 || in_parallel_region) {
    body(0, n);
    return;
  }
  std::lock_guard<std::mutex> lock(run_mutex);
  workers.run(static_cast<int>(parts), n, body);
}

}  // namespace snnc::rt::nn
