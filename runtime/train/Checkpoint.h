// Checkpoint.h — an epoch's training state committed as one unit: the weights, the
// optimizer state, the test predictions and the run's record (the epochs so far) are
// written into a temporary directory with a manifest (sizes and CRC-32 of every file, the
// settings that produced them), then the directory is renamed into place as
// <run>/checkpoints/<role>-epoch-<N>. The rename is the commit point: a process killed at any
// moment leaves either the previous unit or the new one, never a mix, and resuming from it
// reproduces the uninterrupted run. Afterwards the latest weights and predictions are also
// published as <run>/<role>.safetensors and <run>/<role>_predictions.csv for users and
// `snnc build`.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "Safetensors.h"

namespace snnc::rt {

struct CheckpointUnit {
  std::string role;  ///< "model" or "compare"
  int64_t epoch = 0;
  std::vector<NamedTensor> weights;
  std::vector<NamedTensor> optimizer;
  std::string predictions_csv;
  nlohmann::json record;    ///< the run's record after this epoch (epochs, metrics)
  nlohmann::json settings;  ///< what determines the result (compared on resume)
  std::map<std::string, std::string> metadata;  ///< safetensors metadata of the weights
};

/// Commits `unit` under `run_dir` (see above), publishes its weights and predictions, and
/// removes the role's older units. Throws std::runtime_error naming the path on failure.
void commit_checkpoint(const std::string &run_dir, const CheckpointUnit &unit);

/// Writes <run>/<role>.safetensors and <run>/<role>_predictions.csv from `unit` (done by
/// commit_checkpoint; again on resume, for a run killed between the commit and these).
void publish_checkpoint(const std::string &run_dir, const CheckpointUnit &unit);

/// The role's latest committed unit in `run_dir`, verified against its manifest (sizes,
/// CRC-32, epoch and role); nullopt when the role has none. A damaged unit is an error
/// naming the file and what is wrong with it.
std::optional<CheckpointUnit> load_checkpoint(const std::string &run_dir, const std::string &role);

/// Removes every unit (of all roles) under `run_dir`: a new run in an old directory.
void clear_checkpoints(const std::string &run_dir);

/// CRC-32 (zlib's) of `bytes` bytes, continuing `crc`.
uint32_t checksum(const void *data, size_t bytes, uint32_t crc = 0);

/// The keys whose values differ between two settings objects, as "key: was → now" lines.
std::vector<std::string> settings_changes(const nlohmann::json &was, const nlohmann::json &now);

}  // namespace snnc::rt
