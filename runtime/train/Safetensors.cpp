// Safetensors.cpp — F32 safetensors writer and validating reader.
#include "Safetensors.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace snnc::rt {

namespace {
[[noreturn]] void fail(const std::string &path, uint64_t byte, const std::string &why) {
  throw std::runtime_error(path + ": byte " + std::to_string(byte) + ": " + why);
}
}  // namespace

void write_safetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                       const std::map<std::string, std::string> &metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto &t : tensors) {
    uint64_t bytes = t.data.size() * sizeof(float);
    header[t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while (text.size() % 8) text += ' ';
  std::string blob(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) blob[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  blob += text;
  for (const auto &t : tensors)  // x86 is little-endian, as the format requires
    blob.append(reinterpret_cast<const char *>(t.data.data()), t.data.size() * sizeof(float));

  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
  bool ok = std::fwrite(blob.data(), 1, blob.size(), f) == blob.size();
  ok = std::fflush(f) == 0 && ok;
  ok = fsync(fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write '" + path + "': " + std::strerror(err));
  }
}

std::vector<NamedTensor> read_safetensors(const std::string &path,
                                          std::map<std::string, std::string> *metadata) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_safetensors(bytes, path, metadata);
}

std::vector<NamedTensor> parse_safetensors(const std::string &bytes, const std::string &path,
                                           std::map<std::string, std::string> *metadata) {
  if (bytes.size() < 8) fail(path, bytes.size(), "truncated: no 8-byte header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  if (n > bytes.size() - 8)
    fail(path, 0,
         "header length " + std::to_string(n) + " exceeds the file size " +
             std::to_string(bytes.size()));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const std::exception &e) {
    fail(path, 8, std::string("the header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, 8, "the header is not a JSON object");
  uint64_t data_start = 8 + n, data_size = bytes.size() - data_start;
  std::vector<NamedTensor> out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (metadata && it.value().is_object())
        for (auto m = it.value().begin(); m != it.value().end(); ++m)
          if (m.value().is_string()) (*metadata)[m.key()] = m.value().get<std::string>();
      continue;
    }
    const auto &t = it.value();
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") ||
        !t.contains("data_offsets"))
      fail(path, 8, "tensor '" + it.key() + "' lacks dtype, shape or data_offsets");
    if (t["dtype"] != "F32")
      fail(path, 8,
           "tensor '" + it.key() + "' has dtype " + t["dtype"].dump() + "; snnc reads F32 only");
    NamedTensor nt;
    nt.name = it.key();
    uint64_t count = 1;
    for (const auto &d : t["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        fail(path, 8, "tensor '" + it.key() + "' has a bad shape");
      nt.shape.push_back(d.get<int64_t>());
      count *= static_cast<uint64_t>(d.get<int64_t>());
    }
    const auto &off = t["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      fail(path, 8, "tensor '" + it.key() + "' has bad data_offsets");
    uint64_t begin = off[0], end = off[1];
    if (begin > end || end > data_size)
      fail(path, data_start + std::min(end, data_size),
           "tensor '" + it.key() + "' data [" + std::to_string(begin) + ", " + std::to_string(end) +
               ") lies outside the " + std::to_string(data_size) + "-byte data area");
    if (end - begin != count * sizeof(float))
      fail(path, data_start + begin,
           "tensor '" + it.key() + "' has " + std::to_string(end - begin) +
               " bytes for a shape of " + std::to_string(count) + " floats");
    ranges.push_back({begin, end});
    nt.data.resize(count);
    std::memcpy(nt.data.data(), bytes.data() + data_start + begin, end - begin);
    out.push_back(std::move(nt));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      fail(path, data_start + ranges[i].first, "tensor data ranges overlap");
  return out;
}

}  // namespace snnc::rt
