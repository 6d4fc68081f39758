// Events.cpp — counting and listing the nonzeros of an activation, rows split between
// threads.
#include "Events.h"

#include "Parallel.h"

namespace snnc::rt::nn {

int64_t count_events(const float *x, int64_t rows, int64_t width, Events &ev) {
  ev.rows = rows;
  ev.width = width;
  ev.start.assign(rows + 1, 0);
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *row = x + r * width;
      int64_t n = 0;
      for (int64_t k = 0; k < width; ++k) n += row[k] != 0.f;
      ev.start[r + 1] = n;
    }
  });
  for (int64_t r = 0; r < rows; ++r) ev.start[r + 1] += ev.start[r];
  return ev.start[rows];
}

void fill_events(const float *x, Events &ev) {
  ev.index.resize(ev.count());
  ev.value.resize(ev.count());
  parallel_for(ev.rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *row = x + r * ev.width;
      int64_t at = ev.start[r];
      for (int64_t k = 0; k < ev.width; ++k)
        if (row[k] != 0.f) {
          ev.index[at] = static_cast<int32_t>(k);
          ev.value[at++] = row[k];
        }
    }
  });
}

}  // namespace snnc::rt::nn
