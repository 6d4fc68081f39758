// OutputFiles.cpp — atomic writes of regular files, the run-directory lock, stale
// temporaries.
#include "OutputFiles.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace snnc::rt {

namespace fs = std::filesystem;

namespace {

const char *kind_of(const struct stat &st) {
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (S_ISFIFO(st.st_mode)) return "a fifo";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  if (S_ISDIR(st.st_mode)) return "a directory";
  return "not a regular file";
}

/// Whether `name` ends in `.tmp.<digits>` (optionally followed by an extension such as .o).
bool is_temporary_name(const std::string &name) {
  auto at = name.rfind(".tmp.");
  if (at == std::string::npos) return false;
  size_t i = at + 5, digits = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i, ++digits;
  return digits > 0 && (i == name.size() || name[i] == '.');
}

}  // namespace

std::string regular_output_path(const std::string &path) {
  fs::path p(path);
  // follow symlinks deliberately: the target is what gets replaced (up to 40 links, as the
  // kernel allows)
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) return p.string();  // absent: created
    if (S_ISLNK(st.st_mode)) {
      fs::path target = fs::read_symlink(p);
      p = target.is_absolute() ? target : p.parent_path() / target;
      continue;
    }
    if (!S_ISREG(st.st_mode))
      throw std::runtime_error("cannot write '" + path + "': " +
                               (p.string() == path ? "it" : "its target '" + p.string() + "'") +
                               " is " + kind_of(st) + "; snnc writes regular files only");
    return p.string();
  }
  throw std::runtime_error("cannot write '" + path + "': too many levels of symbolic links");
}

void sync_directory(const std::string &dir) {
  int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

void write_file_atomic(const std::string &requested, const std::string &text) {
  std::string path = regular_output_path(requested);
  fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec)
      throw std::runtime_error("cannot create directory '" + p.parent_path().string() +
                               "': " + ec.message());
  }
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write '" + requested + "': " + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (fsync(fileno(f)) == 0) && ok;
  int err = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (ok && std::rename(tmp.c_str(), path.c_str()) == 0) {
    sync_directory(p.parent_path().string());
    return;
  }
  if (ok) err = errno;
  std::remove(tmp.c_str());
  throw std::runtime_error("cannot write '" + requested + "': " + std::strerror(err));
}

int remove_stale_temporaries(const std::string &dir) {
  int removed = 0;
  std::error_code ec;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!is_temporary_name(it->path().filename().string())) continue;
    stale.push_back(it->path());
    if (it->is_directory()) it.disable_recursion_pending();
  }
  for (const auto &p : stale) removed += fs::remove_all(p, ec) > 0;
  return removed;
}

DirectoryLock::DirectoryLock(const std::string &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string path = (fs::path(dir) / ".lock").string();
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::runtime_error("cannot lock run directory '" + dir + "': " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {0};
    ssize_t n = pread(fd_, holder, sizeof holder - 1, 0);
    std::string pid = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    close(fd_);
    fd_ = -1;
    throw std::runtime_error("run directory '" + dir + "' is in use by another snnc process (pid " +
                             pid + "); wait for it to finish or choose another directory");
  }
  std::string me = std::to_string(getpid()) + "\n";
  if (ftruncate(fd_, 0) == 0 && pwrite(fd_, me.data(), me.size(), 0) < 0) {
    // the pid is informational only
  }
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) close(fd_);  // releases the flock
}

}  // namespace snnc::rt
