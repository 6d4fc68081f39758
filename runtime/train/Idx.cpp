// Idx.cpp — IDX parsing, streamed through zlib so that raw and gzip files read the same way
// and a lying header or a gzip bomb never makes us hold more than the file really contains.
#include "Idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "Resources.h"

namespace snnc::rt {

namespace {

constexpr uint64_t kMaxPayload = uint64_t{1} << 34;  ///< product of the dims must stay below
constexpr int kMaxDims = 8;

[[noreturn]] void fail(const std::string &path, uint64_t byte, const std::string &why) {
  throw std::runtime_error(path + ": byte " + std::to_string(byte) + ": " + why);
}

std::string type_name(uint8_t type) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", type);
  const char *name = type == 0x09   ? " (sbyte)"
                     : type == 0x0B ? " (int16)"
                     : type == 0x0C ? " (int32)"
                     : type == 0x0D ? " (float32)"
                     : type == 0x0E ? " (float64)"
                                    : " (not an IDX type)";
  return hex + std::string(name);
}

/// The bytes of an IDX file: zlib checks for the gzip magic 1f 8b and inflates such files,
/// and reads others unchanged. Counts the offset reached so that errors can name it.
class IdxStream {
 public:
  explicit IdxStream(const std::string &path) : path_(path) {
    if (std::filesystem::is_directory(path)) throw std::runtime_error(path + ": is a directory");
    errno = 0;
    gz_ = gzopen(path.c_str(), "rb");
    if (!gz_) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    gzbuffer(gz_, 1 << 18);
  }
  ~IdxStream() { gzclose(gz_); }
  IdxStream(const IdxStream &) = delete;
  IdxStream &operator=(const IdxStream &) = delete;

  /// Reads up to n bytes; fewer only at the end of the data. Throws on corrupt gzip data.
  uint64_t read(uint8_t *out, uint64_t n) {
    uint64_t got = 0;
    while (got < n) {
      unsigned chunk = static_cast<unsigned>(std::min<uint64_t>(n - got, 1u << 30));
      int r = gzread(gz_, out + got, chunk);
      if (r < 0) corrupt();
      if (r == 0) break;
      got += static_cast<uint64_t>(r);
    }
    offset_ += got;
    if (got < n) {
      int err = Z_OK;
      gzerror(gz_, &err);
      if (err != Z_OK) corrupt();  // a truncated stream reports Z_BUF_ERROR
    }
    return got;
  }

  /// Counts the bytes left, stopping at `limit`.
  uint64_t skip_rest(uint64_t limit) {
    uint8_t buf[1 << 16];
    uint64_t total = 0, got;
    while (total < limit && (got = read(buf, sizeof buf)) > 0) total += got;
    return total;
  }

  uint64_t offset() const { return offset_; }

 private:
  [[noreturn]] void corrupt() {
    int err = Z_OK;
    const char *msg = gzerror(gz_, &err);
    std::string why = err == Z_BUF_ERROR ? "the gzip stream ends early (truncated .gz file)"
                                         : std::string("corrupt gzip data (") + msg + ")";
    fail(path_, offset_, why + " after " + std::to_string(offset_) + " decompressed bytes");
  }

  std::string path_;
  gzFile gz_ = nullptr;
  uint64_t offset_ = 0;
};

}  // namespace

IdxArray read_idx(const std::string &path) {
  IdxStream in(path);
  uint8_t magic[4];
  uint64_t got = in.read(magic, 4);
  if (got < 4) fail(path, got, "truncated header (file has " + std::to_string(got) + " bytes)");
  if (magic[0] != 0 || magic[1] != 0)
    fail(path, 0, "not an IDX file (the magic number must start with two zero bytes)");
  if (magic[2] != 0x08)
    fail(path, 2,
         "unsupported IDX element type " + type_name(magic[2]) + "; only unsigned bytes (0x08)");
  int ndim = magic[3];
  if (ndim < 1 || ndim > kMaxDims)
    fail(path, 3,
         "bad number of dimensions " + std::to_string(ndim) + " (1 to " + std::to_string(kMaxDims) +
             " supported)");
  uint64_t header = 4 + 4 * static_cast<uint64_t>(ndim);
  uint8_t dim_bytes[4 * kMaxDims];
  got = in.read(dim_bytes, header - 4);
  if (got < header - 4)
    fail(path, 4 + got,
         "truncated header: " + std::to_string(ndim) + " dimensions need " +
             std::to_string(header) + " bytes");

  IdxArray a;
  uint64_t total = 1;
  for (int d = 0; d < ndim; ++d) {
    const uint8_t *p = &dim_bytes[4 * d];
    uint64_t v = (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8) | p[3];
    if (v == 0) fail(path, 4 + 4 * d, "dimension " + std::to_string(d) + " is zero");
    if (v >= kMaxPayload / total)  // checked before multiplying, so nothing wraps around
      fail(path, 4 + 4 * d, "dimensions are implausibly large (2^34 elements or more)");
    total *= v;
    a.dims.push_back(static_cast<int64_t>(v));
  }

  memory_limit_bytes();  // (a bad SNNC_MEMORY_LIMIT is its own error, not this file's)
  try {  // (a small gzip file can promise gigabytes: refuse those before inflating them)
    check_memory(static_cast<double>(total),
                 "the data (" + std::to_string(total) + " bytes after decompression)");
  } catch (const std::runtime_error &e) {
    fail(path, 4, e.what());
  }
  // grow as data arrives: a header promising more than the file holds costs nothing
  const uint64_t chunk = uint64_t{1} << 24;
  a.data.reserve(std::min(total, chunk));
  while (a.data.size() < total) {
    uint64_t before = a.data.size(), want = std::min(chunk, total - before);
    a.data.resize(before + want);
    got = in.read(a.data.data() + before, want);
    if (got < want) {
      uint64_t have = before + got;
      fail(path, header + have,
           "truncated data: the header promises " + std::to_string(total) + " bytes after byte " +
               std::to_string(header) + ", the file has " + std::to_string(have));
    }
  }
  const uint64_t count_limit = uint64_t{1} << 32;
  if (uint64_t extra = in.skip_rest(count_limit); extra > 0)
    fail(path, header + total,
         (extra >= count_limit ? "at least " : "") + std::to_string(extra) +
             " unexpected bytes after the data");
  return a;
}

}  // namespace snnc::rt
