// Safetensors.h — checkpoints in the safetensors format (readable by PyTorch users):
// an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
// and byte range, then the raw little-endian data. Writes are atomic; reads validate
// every field and report the path and byte offset of a problem.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace snnc::rt {

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Writes the file atomically (temporary file, fsync, rename).
void write_safetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                       const std::map<std::string, std::string> &metadata = {});
/// The file's bytes, in memory (`name` is used in error messages).
std::string safetensors_bytes(const std::vector<NamedTensor> &tensors,
                              const std::map<std::string, std::string> &metadata,
                              const std::string &name);

std::vector<NamedTensor> read_safetensors(const std::string &path,
                                          std::map<std::string, std::string> *metadata = nullptr);

/// The same from bytes in memory (`name` is used in error messages).
std::vector<NamedTensor> parse_safetensors(const std::string &bytes, const std::string &name,
                                           std::map<std::string, std::string> *metadata = nullptr);

}  // namespace snnc::rt
