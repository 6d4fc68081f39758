// Safetensors.cpp — F32 safetensors writer and validating reader.
#include "Safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "OutputFiles.h"

namespace snnc::rt {

namespace {
[[noreturn]] void fail(const std::string &path, uint64_t byte, const std::string &why) {
  throw std::runtime_error(path + ": byte " + std::to_string(byte) + ": " + why);
}
}  // namespace

std::string safetensors_bytes(const std::vector<NamedTensor> &tensors,
                              const std::map<std::string, std::string> &metadata,
                              const std::string &path) {
  static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");
  auto refuse = [&](const NamedTensor &t, const std::string &why) {
    throw std::runtime_error("cannot write '" + path + "': tensor '" + t.name + "' " + why);
  };
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto &t : tensors) {
    if (t.name.empty() || t.name == "__metadata__") refuse(t, "has a reserved name");
    if (header.contains(t.name)) refuse(t, "appears twice");
    uint64_t count = 1;
    for (int64_t d : t.shape) {
      if (d < 0) refuse(t, "has a negative dimension");
      count *= static_cast<uint64_t>(d);
    }
    if (count != t.data.size())
      refuse(t, "has " + std::to_string(t.data.size()) + " values for a shape of " +
                    std::to_string(count));
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
  blob.reserve(8 + n + offset);
  blob += text;
  for (const auto &t : tensors)
    blob.append(reinterpret_cast<const char *>(t.data.data()), t.data.size() * sizeof(float));
  return blob;
}

void write_safetensors(const std::string &path, const std::vector<NamedTensor> &tensors,
                       const std::map<std::string, std::string> &metadata) {
  write_file_atomic(path, safetensors_bytes(tensors, metadata, path));  // tmp, fsync, rename
}

std::vector<NamedTensor> read_safetensors(const std::string &path,
                                          std::map<std::string, std::string> *metadata) {
  if (std::filesystem::is_directory(path)) throw std::runtime_error(path + ": is a directory");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::streamoff size = in.tellg();
  if (size < 0) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
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
  } catch (const nlohmann::json::parse_error &e) {  // its byte counts from 1, in the header
    fail(path, 8 + (e.byte > 0 ? e.byte - 1 : 0), "the header is not valid JSON");
  } catch (const std::exception &) {
    fail(path, 8, "the header is not valid JSON");
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
    if (!t["shape"].is_array()) fail(path, 8, "tensor '" + it.key() + "' has a bad shape");
    uint64_t count = 1;
    for (const auto &d : t["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        fail(path, 8, "tensor '" + it.key() + "' has a bad shape");
      uint64_t dim = static_cast<uint64_t>(d.get<int64_t>());
      if (dim != 0 && count > data_size / dim)  // more floats than the data area can hold
        fail(path, 8, "tensor '" + it.key() + "' has a shape larger than the data area");
      nt.shape.push_back(static_cast<int64_t>(dim));
      count *= dim;
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
    if (count > 0) std::memcpy(nt.data.data(), bytes.data() + data_start + begin, end - begin);
    out.push_back(std::move(nt));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      fail(path, data_start + ranges[i].first, "tensor data ranges overlap");
  return out;
}

}  // namespace snnc::rt
