// Idx.cpp — IDX parsing with gzip support through zlib.
#include "Idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace snnc::rt {

namespace {

[[noreturn]] void fail(const std::string &path, uint64_t byte, const std::string &why) {
  throw std::runtime_error(path + ": byte " + std::to_string(byte) + ": " + why);
}

std::vector<uint8_t> read_all(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {  // gzip
    gzFile gz = gzopen(path.c_str(), "rb");
    if (!gz) throw std::runtime_error(path + ": cannot open the gzip stream");
    std::vector<uint8_t> out;
    uint8_t buf[1 << 16];
    int n;
    while ((n = gzread(gz, buf, sizeof buf)) > 0) {
      out.insert(out.end(), buf, buf + n);
      if (out.size() > (uint64_t{1} << 34)) break;
    }
    int err = 0;
    const char *msg = gzerror(gz, &err);
    bool bad = n < 0 || (err != Z_OK && err != Z_STREAM_END);
    std::string why = bad ? msg : "";
    gzclose(gz);
    if (bad)
      fail(path, out.size(),
           "corrupt gzip data after " + std::to_string(out.size()) + " decompressed bytes (" + why +
               ")");
    return out;
  }
  return bytes;
}

}  // namespace

IdxArray read_idx(const std::string &path) {
  std::vector<uint8_t> b = read_all(path);
  if (b.size() < 4)
    fail(path, b.size(), "truncated header (file has " + std::to_string(b.size()) + " bytes)");
  if (b[0] != 0 || b[1] != 0)
    fail(path, 0, "not an IDX file (the magic number must start with two zero bytes)");
  if (b[2] != 0x08)
    fail(path, 2,
         "unsupported IDX element type 0x" + std::to_string(b[2]) + " (only unsigned bytes, 0x08)");
  int ndim = b[3];
  if (ndim < 1 || ndim > 4) fail(path, 3, "bad number of dimensions " + std::to_string(ndim));
  size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (b.size() < header)
    fail(path, b.size(),
         "truncated header: " + std::to_string(ndim) + " dimensions need " +
             std::to_string(header) + " bytes");
  IdxArray a;
  uint64_t total = 1;
  for (int d = 0; d < ndim; ++d) {
    const uint8_t *p = &b[4 + 4 * d];
    uint64_t v = (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8) | p[3];
    if (v == 0) fail(path, 4 + 4 * d, "dimension " + std::to_string(d) + " is zero");
    total *= v;
    if (total > (uint64_t{1} << 34)) fail(path, 4 + 4 * d, "dimensions are implausibly large");
    a.dims.push_back(static_cast<int64_t>(v));
  }
  uint64_t payload = b.size() - header;
  if (payload < total)
    fail(path, b.size(),
         "truncated data: the header promises " + std::to_string(total) + " bytes after byte " +
             std::to_string(header) + ", the file has " + std::to_string(payload));
  if (payload > total)
    fail(path, header + total,
         std::to_string(payload - total) + " unexpected bytes after the data");
  a.data.assign(b.begin() + header, b.end());
  return a;
}

}  // namespace snnc::rt
