// idx_fuzz.cpp — fuzzes the IDX reader (raw and gzip-compressed data sets) on any bytes.
// The reader takes a path, so each input is written to a file first.
#include <cstdint>
#include <exception>

#include "FuzzFile.h"
#include "train/Idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string &path = snnc::fuzz::write_input(data, size, ".idx");
  try {
    (void)snnc::rt::read_idx(path);
  } catch (const std::exception &) {
  }
  return 0;
}
