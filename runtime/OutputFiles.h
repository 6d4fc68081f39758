// OutputFiles.h — how snnc writes what it produces: regular files only, replaced atomically
// (a reader sees the old or the new content, never a mix), symlinks written through to
// their target, device nodes and other special files refused; and the run-directory lock
// that keeps two processes from writing into one directory, with the clean-up of temporary
// files a killed process left behind.
#pragma once
#include <string>

namespace snnc::rt {

/// Replaces `path` with `text`: a temporary file beside the target, fsync, rename, fsync of
/// the directory. A symlink is followed (its target is replaced); a path that exists and is
/// not a regular file (a device, a fifo, a directory) is refused. Creates missing parent
/// directories. Throws std::runtime_error naming the path.
void write_file_atomic(const std::string &path, const std::string &text);

/// The path that write_file_atomic(path) replaces: `path` with symlinks resolved. Throws
/// std::runtime_error when that is not a regular file (or absent).
std::string regular_output_path(const std::string &path);

/// fsync of a directory, so a rename inside it survives a crash of the machine.
void sync_directory(const std::string &dir);

/// Removes the temporary files (`*.tmp.<pid>`, files or directories) that writers in `dir`
/// and its subdirectories left when they were killed. Call with the directory's lock held.
/// Returns how many it removed.
int remove_stale_temporaries(const std::string &dir);

/// An exclusive lock on a run directory (`<dir>/.lock`, flock): held while the object
/// lives. A second holder is refused at once with an error naming the directory and the
/// process that holds it. The lock ends with the process, even when it is killed.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::string &dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock &) = delete;
  DirectoryLock &operator=(const DirectoryLock &) = delete;

 private:
  int fd_ = -1;
};

}  // namespace snnc::rt
