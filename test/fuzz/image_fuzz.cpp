// image_fuzz.cpp — fuzzes the PNG and PGM readers of standalone inference binaries.
//
// The readers are file-local functions of runtime/infer/InferMain.cpp, so this target
// compiles that file into itself (its `main` renamed, the model symbols `snnc build` would
// link in defined as an empty model) and calls them on each input, written to a file. The
// image size the model expects is taken from the input's own header where it has one, so
// that pixel decoding is reached.
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "FuzzFile.h"

#define main snnc_infer_main_unused
#include "InferMain.cpp"
#undef main

extern "C" {
const char snnc_model_plan[] = "{}";
const char snnc_model_weights[] = "";
const int64_t snnc_model_weights_size = 0;
const snnc_cell_entry snnc_model_cells[] = {{nullptr, nullptr, nullptr}};
const int64_t snnc_model_cell_count = 0;
}

namespace {

uint32_t big_endian32(const uint8_t *p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

/// Width times height from a PNG's IHDR or a PGM's header, else a 28x28 image.
int64_t expected_pixels(const uint8_t *data, size_t size) {
  int64_t w = 0, h = 0;
  if (size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
    w = big_endian32(data + 16), h = big_endian32(data + 20);
  } else {
    std::istringstream in(
        std::string(reinterpret_cast<const char *>(data), std::min<size_t>(size, 64)));
    std::string magic;
    in >> magic >> w >> h;
  }
  // a model's input is never larger than this; a header may claim anything
  const int64_t most = int64_t{1} << 22;
  return w > 0 && h > 0 && w <= most && h <= most / w ? w * h : 784;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string &path = snnc::fuzz::write_input(data, size, ".img");
  int64_t expect = expected_pixels(data, size);
  try {
    if (is_pgm(path)) (void)read_pgm(path, expect);
    if (is_png(path)) (void)read_png(path, expect);
  } catch (const std::exception &) {
  }
  return 0;
}
