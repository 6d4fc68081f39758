// FuzzFile.h — for fuzz targets whose reader takes a path: the input written to a file of
// this process (in TMPDIR), rewritten for every input.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace snnc::fuzz {

inline const std::string &write_input(const uint8_t *data, size_t size, const char *suffix) {
  static const std::string path = [&] {
    const char *dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/snnc-fuzz-" + std::to_string(getpid()) +
           suffix;
  }();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace snnc::fuzz
