// Resources.h — up-front checks that a run fits the machine: the memory a data set, a
// training run or a simulation will need, refused with a clear message (how much is needed,
// how much there is) before anything is allocated, instead of an OOM kill half-way.
#pragma once
#include <string>

namespace snnc::rt {

/// The memory snnc may use, in bytes: the machine's physical memory, or less where a cgroup
/// (a container) or SNNC_MEMORY_LIMIT (bytes, or with a K, M or G suffix) says so.
double memory_limit_bytes();

/// Throws std::runtime_error("WHAT needs about X of memory; snnc may use Y here") when
/// `bytes` exceeds three quarters of memory_limit_bytes().
void check_memory(double bytes, const std::string &what);

/// "512 KiB", "37 MiB", "2.5 GiB".
std::string format_bytes(double bytes);

}  // namespace snnc::rt
