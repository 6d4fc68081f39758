// safetensors_fuzz.cpp — fuzzes the safetensors reader (checkpoints, weights) on any bytes,
// metadata included.
#include <cstdint>
#include <exception>
#include <map>
#include <string>

#include "train/Safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  std::map<std::string, std::string> metadata;
  try {
    (void)snnc::rt::parse_safetensors(bytes, "fuzz.safetensors", &metadata);
  } catch (const std::exception &) {
  }
  return 0;
}
