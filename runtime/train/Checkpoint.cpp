// Checkpoint.cpp — epoch checkpoints as directories committed by one rename.
#include "Checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "OutputFiles.h"

namespace snnc::rt {

namespace fs = std::filesystem;

namespace {

constexpr const char *kFormat = "snnc-checkpoint-1";
constexpr const char *kWeights = "weights.safetensors";
constexpr const char *kOptimizer = "optimizer.safetensors";
constexpr const char *kPredictions = "predictions.csv";
constexpr const char *kRecord = "record.json";
constexpr const char *kManifest = "manifest.json";

uint32_t crc_of(const std::string &bytes) {
  return checksum(bytes.data(), bytes.size());
}

/// Writes and fsyncs a new file (inside a private temporary directory: no rename needed).
void write_synced(const fs::path &path, const std::string &bytes) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write '" + path.string() + "': " + std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fflush(f) == 0 && ok;
  ok = fsync(fileno(f)) == 0 && ok;
  int err = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) throw std::runtime_error("cannot write '" + path.string() + "': " + std::strerror(err));
}

std::string read_all(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path.string() + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path units_dir(const std::string &run_dir) {
  return fs::path(run_dir) / "checkpoints";
}

/// The epochs of the role's committed units, ascending.
std::vector<int64_t> unit_epochs(const std::string &run_dir, const std::string &role) {
  std::vector<int64_t> epochs;
  std::error_code ec;
  const std::string prefix = role + "-epoch-";
  for (const auto &e : fs::directory_iterator(units_dir(run_dir), ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !e.is_directory()) continue;
    std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;  // a temporary or foreign entry
    epochs.push_back(std::stoll(digits));
  }
  std::sort(epochs.begin(), epochs.end());
  return epochs;
}

fs::path unit_path(const std::string &run_dir, const std::string &role, int64_t epoch) {
  return units_dir(run_dir) / (role + "-epoch-" + std::to_string(epoch));
}

/// Copies of a committed unit's weights and predictions for users and `snnc build`; the unit
/// stays the reference.
void publish(const std::string &run_dir, const std::string &role, const std::string &weights,
             const std::string &predictions) {
  write_file_atomic((fs::path(run_dir) / (role + ".safetensors")).string(), weights);
  write_file_atomic((fs::path(run_dir) / (role + "_predictions.csv")).string(), predictions);
}

std::string dump_value(const nlohmann::json &v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

}  // namespace

uint32_t checksum(const void *data, size_t bytes, uint32_t crc) {
  uLong c = crc;
  const auto *p = static_cast<const Bytef *>(data);
  for (size_t done = 0; done < bytes;) {  // zlib takes a uInt length
    uInt n = static_cast<uInt>(std::min<size_t>(bytes - done, size_t{1} << 30));
    c = crc32(c, p + done, n);
    done += n;
  }
  return static_cast<uint32_t>(c);
}

void commit_checkpoint(const std::string &run_dir, const CheckpointUnit &unit) {
  const fs::path final_dir = unit_path(run_dir, unit.role, unit.epoch);
  const fs::path tmp_dir = final_dir.string() + ".tmp." + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  fs::create_directories(tmp_dir, ec);
  if (ec)
    throw std::runtime_error("cannot create directory '" + tmp_dir.string() + "': " + ec.message());
  const std::map<std::string, std::string> files = {
      {kWeights, safetensors_bytes(unit.weights, unit.metadata, kWeights)},
      {kOptimizer, safetensors_bytes(unit.optimizer, unit.metadata, kOptimizer)},
      {kPredictions, unit.predictions_csv},
      {kRecord, unit.record.dump(2) + "\n"}};
  nlohmann::json manifest = {{"format", kFormat},
                             {"role", unit.role},
                             {"epoch", unit.epoch},
                             {"settings", unit.settings},
                             {"files", nlohmann::json::object()}};
  for (const auto &[name, bytes] : files) {
    write_synced(tmp_dir / name, bytes);
    manifest["files"][name] = {{"bytes", bytes.size()}, {"crc32", crc_of(bytes)}};
  }
  write_synced(tmp_dir / kManifest, manifest.dump(2) + "\n");
  sync_directory(tmp_dir.string());
  // a unit of the same epoch (a run restarted in its directory) is moved aside first, so the
  // directory holds one of the two at every moment
  fs::path aside;
  if (fs::exists(final_dir)) {
    aside = final_dir.string() + ".old.tmp." + std::to_string(getpid());
    fs::remove_all(aside, ec);
    fs::rename(final_dir, aside);
  }
  if (std::rename(tmp_dir.c_str(), final_dir.c_str()) != 0)
    throw std::runtime_error("cannot commit checkpoint '" + final_dir.string() +
                             "': " + std::strerror(errno));
  sync_directory(units_dir(run_dir).string());
  if (!aside.empty()) fs::remove_all(aside, ec);
  publish(run_dir, unit.role, files.at(kWeights), unit.predictions_csv);
  for (int64_t e : unit_epochs(run_dir, unit.role))
    if (e != unit.epoch) fs::remove_all(unit_path(run_dir, unit.role, e), ec);
}

void publish_checkpoint(const std::string &run_dir, const CheckpointUnit &unit) {
  const fs::path dir = unit_path(run_dir, unit.role, unit.epoch);
  publish(run_dir, unit.role, read_all(dir / kWeights), read_all(dir / kPredictions));
}

std::optional<CheckpointUnit> load_checkpoint(const std::string &run_dir, const std::string &role) {
  auto epochs = unit_epochs(run_dir, role);
  if (epochs.empty()) return std::nullopt;
  const fs::path dir = unit_path(run_dir, role, epochs.back());
  auto damaged = [&](const std::string &what) {
    return std::runtime_error("checkpoint '" + dir.string() + "' is damaged: " + what);
  };
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(read_all(dir / kManifest));
  } catch (const nlohmann::json::exception &e) {
    throw damaged(std::string(kManifest) + " is not valid JSON");
  } catch (const std::runtime_error &) {
    throw damaged("it has no " + std::string(kManifest));
  }
  CheckpointUnit unit;
  std::map<std::string, std::string> files;
  try {
    if (manifest.value("format", "") != kFormat)
      throw damaged(std::string(kManifest) + " is not a " + kFormat + " manifest");
    unit.role = manifest.at("role").get<std::string>();
    unit.epoch = manifest.at("epoch").get<int64_t>();
    unit.settings = manifest.at("settings");
    if (unit.role != role || unit.epoch != epochs.back())
      throw damaged(std::string(kManifest) + " names " + unit.role + " epoch " +
                    std::to_string(unit.epoch));
    for (const char *name : {kWeights, kOptimizer, kPredictions, kRecord}) {
      if (!manifest.at("files").contains(name))
        throw damaged(std::string(kManifest) + " does not list " + name);
      const auto &entry = manifest["files"][name];
      std::string bytes;
      try {
        bytes = read_all(dir / name);
      } catch (const std::runtime_error &) {
        throw damaged(std::string(name) + " is missing");
      }
      const auto want_bytes = entry.at("bytes").get<uint64_t>();
      if (bytes.size() != want_bytes)
        throw damaged(std::string(name) + " has " + std::to_string(bytes.size()) +
                      " bytes, the manifest says " + std::to_string(want_bytes));
      if (crc_of(bytes) != entry.at("crc32").get<uint32_t>())
        throw damaged(std::string(name) + " does not match its CRC-32 in the manifest");
      files[name] = std::move(bytes);
    }
  } catch (const nlohmann::json::exception &e) {
    throw damaged(std::string(kManifest) + ": " + e.what());
  }
  unit.weights = parse_safetensors(files[kWeights], (dir / kWeights).string(), &unit.metadata);
  unit.optimizer = parse_safetensors(files[kOptimizer], (dir / kOptimizer).string());
  unit.predictions_csv = files[kPredictions];
  try {
    unit.record = nlohmann::json::parse(files[kRecord]);
  } catch (const nlohmann::json::exception &) {
    throw damaged(std::string(kRecord) + " is not valid JSON");
  }
  return unit;
}

void clear_checkpoints(const std::string &run_dir) {
  std::error_code ec;
  fs::remove_all(units_dir(run_dir), ec);
}

std::vector<std::string> settings_changes(const nlohmann::json &was, const nlohmann::json &now) {
  std::vector<std::string> out;
  if (!was.is_object() || !now.is_object()) {
    if (was != now) out.push_back("settings: " + dump_value(was) + " → " + dump_value(now));
    return out;
  }
  for (const auto &[key, value] : now.items()) {
    if (!was.contains(key))
      out.push_back(key + ": (absent) → " + dump_value(value));
    else if (was[key] != value)
      out.push_back(key + ": " + dump_value(was[key]) + " → " + dump_value(value));
  }
  for (const auto &[key, value] : was.items())
    if (!now.contains(key)) out.push_back(key + ": " + dump_value(value) + " → (absent)");
  return out;
}

}  // namespace snnc::rt
