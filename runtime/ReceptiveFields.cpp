// ReceptiveFields.cpp — the learned weights of a connection as a PNG grid.
#include "ReceptiveFields.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "OutputFiles.h"

namespace snnc::rt {
namespace {

void append(png_structp png, png_bytep data, png_size_t length) {
  auto *out = static_cast<std::string *>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char *>(data), length);
}

void flush(png_structp) {}

std::string encode_png(const std::vector<uint8_t> &gray, int64_t width, int64_t height) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) throw std::runtime_error("libpng: out of memory");
  std::string out;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("libpng could not encode the receptive fields");
  }
  png_set_write_fn(png, &out, append, flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int64_t y = 0; y < height; ++y)
    png_write_row(png, const_cast<png_bytep>(gray.data() + y * width));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace

void write_receptive_fields(const SimResult &result, const std::string &connection,
                            const std::vector<int64_t> &shape, const std::string &path) {
  const SynapseArrays *a = nullptr;
  for (const auto &x : result.synapse_state)
    if (x.connection == connection) a = &x;
  if (!a) throw std::runtime_error("no synapse state of connection '" + connection + "'");
  const std::vector<double> *w = nullptr;
  for (const auto &[name, values] : a->vars)
    if (name == "w") w = &values;
  if (!w) throw std::runtime_error("connection '" + connection + "' has no per-synapse 'w'");
  if (shape.size() < 2) throw std::runtime_error("receptive fields need 2-d images");
  const int64_t h = shape[shape.size() - 2], wd = shape.back();
  const int64_t n_pre = static_cast<int64_t>(a->row_ptr.size()) - 1;
  int64_t n_post = 0;
  for (int32_t j : a->col) n_post = std::max<int64_t>(n_post, j + 1);
  if (n_pre < h * wd)
    throw std::runtime_error("connection '" + connection + "' has fewer inputs than pixels");
  const int64_t cols = static_cast<int64_t>(std::ceil(std::sqrt(double(n_post)))),
                rows = (n_post + cols - 1) / cols, gap = 1;
  const int64_t width = cols * (wd + gap) + gap, height = rows * (h + gap) + gap;
  double top = 0;
  for (double x : *w) top = std::max(top, x);
  std::vector<uint8_t> gray(width * height, 40);  // dark gray between the tiles
  for (int64_t i = 0; i < h * wd; ++i)
    for (int64_t s = a->row_ptr[i]; s < a->row_ptr[i + 1]; ++s) {
      const int64_t j = a->col[s], tx = j % cols, ty = j / cols;
      const int64_t x = gap + tx * (wd + gap) + i % wd, y = gap + ty * (h + gap) + i / wd;
      const double v = top > 0 ? std::clamp((*w)[s] / top, 0.0, 1.0) : 0;
      gray[y * width + x] = static_cast<uint8_t>(std::lround(255 * v));
    }
  write_file_atomic(path, encode_png(gray, width, height));
}

}  // namespace snnc::rt
