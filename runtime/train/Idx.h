// Idx.h — reads IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
//
// Only unsigned-byte payloads (type 0x08) are needed. Every error names the file and the
// byte offset where it went wrong: a truncated header, a bad magic, dimensions that do not
// match the payload size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace snnc::rt {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

/// Throws std::runtime_error("PATH: byte N: ...") on any problem.
IdxArray read_idx(const std::string &path);

}  // namespace snnc::rt
