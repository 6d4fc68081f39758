// Checkpoint units (commit, verify, damage), output files (symlinks, special files, stale
// temporaries), the run-directory lock and optimizer state checks.
#include "train/Checkpoint.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "OutputFiles.h"
#include "train/Optimizer.h"

using namespace snnc::rt;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string &name) {
  fs::path dir =
      fs::temp_directory_path() / ("snnc_checkpoint_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_text(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CheckpointUnit unit_at(int64_t epoch) {
  CheckpointUnit u;
  u.role = "model";
  u.epoch = epoch;
  u.weights = {{"fc.weight", {2, 2}, {1.f, 2.f, 3.f, static_cast<float>(epoch)}}};
  u.optimizer = {{"step", {1}, {static_cast<float>(epoch * 10)}}};
  u.predictions_csv = "index,label,predicted\n0,1,1\n";
  u.record = {{"epochs", nlohmann::json::array()}};
  for (int64_t e = 0; e < epoch; ++e) u.record["epochs"].push_back({{"epoch", e + 1}});
  u.settings = {{"seed", 1}, {"batch", 32}};
  u.metadata = {{"snnc_epoch", std::to_string(epoch)}};
  return u;
}

}  // namespace

TEST(Checkpoint, CommitsUnitsAndKeepsOnlyTheLatest) {
  auto dir = fresh_dir("commit");
  EXPECT_FALSE(load_checkpoint(dir.string(), "model").has_value());
  commit_checkpoint(dir.string(), unit_at(1));
  commit_checkpoint(dir.string(), unit_at(2));
  EXPECT_FALSE(fs::exists(dir / "checkpoints" / "model-epoch-1"));
  auto u = load_checkpoint(dir.string(), "model");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->epoch, 2);
  EXPECT_EQ(u->weights[0].data[3], 2.f);
  EXPECT_EQ(u->optimizer[0].data[0], 20.f);
  EXPECT_EQ(u->record["epochs"].size(), 2u);
  EXPECT_EQ(u->settings["batch"], 32);
  // the published copies equal the unit's files
  EXPECT_EQ(read_text(dir / "model.safetensors"),
            read_text(dir / "checkpoints" / "model-epoch-2" / "weights.safetensors"));
  EXPECT_EQ(read_text(dir / "model_predictions.csv"), u->predictions_csv);
  EXPECT_FALSE(load_checkpoint(dir.string(), "compare").has_value());
  clear_checkpoints(dir.string());
  EXPECT_FALSE(load_checkpoint(dir.string(), "model").has_value());
  fs::remove_all(dir);
}

TEST(Checkpoint, DamagedUnitsAreErrorsNamingTheFile) {
  auto dir = fresh_dir("damage");
  auto expect_damage = [&](const std::string &needle) {
    try {
      load_checkpoint(dir.string(), "model");
      ADD_FAILURE() << "no error for " << needle;
    } catch (const std::runtime_error &e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("is damaged"), std::string::npos) << e.what();
    }
  };
  commit_checkpoint(dir.string(), unit_at(1));
  const auto unit = dir / "checkpoints" / "model-epoch-1";
  {  // a flipped byte of the same size
    std::string w = read_text(unit / "weights.safetensors");
    w.back() ^= 1;
    std::ofstream(unit / "weights.safetensors", std::ios::binary) << w;
  }
  expect_damage("weights.safetensors does not match its CRC-32");
  commit_checkpoint(dir.string(), unit_at(1));
  fs::resize_file(unit / "optimizer.safetensors", 10);
  expect_damage("optimizer.safetensors has 10 bytes");
  commit_checkpoint(dir.string(), unit_at(1));
  fs::remove(unit / "record.json");
  expect_damage("record.json is missing");
  commit_checkpoint(dir.string(), unit_at(1));
  fs::remove(unit / "manifest.json");
  expect_damage("no manifest.json");
  fs::remove_all(dir);
}

TEST(Checkpoint, TemporaryUnitsAreNotCommitted) {
  auto dir = fresh_dir("temporary");
  commit_checkpoint(dir.string(), unit_at(1));
  // a process killed while writing epoch 2 leaves its temporary directory only
  fs::create_directories(dir / "checkpoints" / "model-epoch-2.tmp.12345");
  auto u = load_checkpoint(dir.string(), "model");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->epoch, 1);
  EXPECT_EQ(remove_stale_temporaries(dir.string()), 1);
  EXPECT_FALSE(fs::exists(dir / "checkpoints" / "model-epoch-2.tmp.12345"));
  fs::remove_all(dir);
}

TEST(Checkpoint, SettingsChangesListEveryDifference) {
  nlohmann::json was = {{"seed", 1}, {"batch", 32}, {"limit", 100}};
  nlohmann::json now = {{"seed", 2}, {"batch", 32}, {"micro_batch", 8}};
  auto changes = settings_changes(was, now);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0], "micro_batch: (absent) → 8");
  EXPECT_EQ(changes[1], "seed: 1 → 2");
  EXPECT_EQ(changes[2], "limit: 100 → (absent)");
  EXPECT_TRUE(settings_changes(was, was).empty());
}

TEST(OutputFiles, SymlinksAreWrittenThroughAndSpecialFilesRefused) {
  auto dir = fresh_dir("outputs");
  write_file_atomic((dir / "target.txt").string(), "old\n");
  fs::create_symlink("target.txt", dir / "link.txt");
  write_file_atomic((dir / "link.txt").string(), "new\n");
  EXPECT_TRUE(fs::is_symlink(dir / "link.txt"));
  EXPECT_EQ(read_text(dir / "target.txt"), "new\n");
  // a dangling link creates its target
  fs::create_symlink("made.txt", dir / "dangling.txt");
  write_file_atomic((dir / "dangling.txt").string(), "made\n");
  EXPECT_EQ(read_text(dir / "made.txt"), "made\n");
  // a fifo, a directory and a device are refused and left as they are
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0644), 0);
  EXPECT_THROW(write_file_atomic((dir / "fifo").string(), "x"), std::runtime_error);
  EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
  fs::create_directories(dir / "adir");
  EXPECT_THROW(write_file_atomic((dir / "adir").string(), "x"), std::runtime_error);
  try {
    write_file_atomic("/dev/null", "x");
    ADD_FAILURE() << "/dev/null was written";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("is a character device"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  fs::remove_all(dir);
}

TEST(OutputFiles, StaleTemporariesAreRemoved) {
  auto dir = fresh_dir("stale");
  std::ofstream(dir / "summary.json.tmp.4242") << "x";
  std::ofstream(dir / "summary.json") << "{}";
  std::ofstream(dir / "a.tmp.txt") << "kept: not a writer's temporary";
  fs::create_directories(dir / "seed-2");
  std::ofstream(dir / "seed-2" / "model.safetensors.tmp.77") << "x";
  EXPECT_EQ(remove_stale_temporaries(dir.string()), 2);
  EXPECT_TRUE(fs::exists(dir / "summary.json"));
  EXPECT_TRUE(fs::exists(dir / "a.tmp.txt"));
  fs::remove_all(dir);
}

TEST(OutputFiles, RunDirectoryLockIsExclusive) {
  auto dir = fresh_dir("lock");
  {
    DirectoryLock first(dir.string());
    try {
      DirectoryLock second(dir.string());
      ADD_FAILURE() << "two locks on one directory";
    } catch (const std::runtime_error &e) {
      EXPECT_NE(std::string(e.what()).find("in use by another snnc process (pid " +
                                           std::to_string(getpid()) + ")"),
                std::string::npos)
          << e.what();
    }
  }
  DirectoryLock again(dir.string());  // released with its holder
  fs::remove_all(dir);
}

TEST(OptimizerState, CheckpointedStateIsCheckedBeforeLoading) {
  std::vector<float> w(3, 1.f), g(3, 0.5f);
  std::vector<ParamRef> params = {{"fc.weight", w.data(), g.data(), 3}};
  auto adam = make_adam(0.01);
  adam->step(params);
  auto good = adam->state();
  auto fresh = make_adam(0.01);
  EXPECT_NO_THROW(fresh->check_state(good, params, "opt"));
  auto expect_refused = [&](std::vector<std::pair<std::string, std::vector<float>>> s,
                            const std::string &needle) {
    try {
      fresh->check_state(s, params, "opt");
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const std::runtime_error &e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto with = [&](const std::string &name, std::vector<float> v) {
    auto s = good;
    for (auto &[k, x] : s)
      if (k == name) x = v;
    return s;
  };
  expect_refused(with("step", {NAN}), "non-finite");
  expect_refused(with("step", {1.5f}), "invalid step count");
  expect_refused(with("fc.weight.exp_avg", {0.f, 0.f}), "has 2 values");
  expect_refused({}, "no step count");
  expect_refused({{"step", {1.f}}}, "has no 'fc.weight.exp_avg'");
  auto extra = good;
  extra.push_back({"other.exp_avg", {0.f}});
  expect_refused(extra, "holds 'other.exp_avg'");
  // before any step Adam keeps the count only
  EXPECT_NO_THROW(fresh->check_state({{"step", {0.f}}}, params, "opt"));
  // SGD without momentum keeps nothing; with momentum one buffer per parameter
  EXPECT_NO_THROW(make_sgd(0.1)->check_state({}, params, "opt"));
  EXPECT_THROW(make_sgd(0.1, 0.9)->check_state({}, params, "opt"), std::runtime_error);
}

TEST(Safetensors, MalformedHeaderIsLocatedWithoutLibraryJargon) {
  std::string header = R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} oops)";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header + std::string(4, '\0');
  try {
    parse_safetensors(bytes, "w.safetensors");
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error &e) {
    const std::string what = e.what();
    EXPECT_EQ(what, "w.safetensors: byte " + std::to_string(8 + header.find("oops")) +
                        ": the header is not valid JSON");
  }
}
