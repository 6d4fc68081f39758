// Resources.cpp — physical memory and the up-front memory check.
#include "Resources.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace snnc::rt {

namespace {

/// "123", "512M", "2G" as bytes; 0 when not such a number.
double parse_bytes(const std::string &text) {
  char *end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v > 0)) return 0;
  std::string unit(end);
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
  if (unit.empty()) return v;
  if (unit == "K" || unit == "k") return v * 1024;
  if (unit == "M") return v * 1024 * 1024;
  if (unit == "G") return v * 1024 * 1024 * 1024;
  return 0;
}

}  // namespace

double memory_limit_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  double limit = pages > 0 && page > 0 ? static_cast<double>(pages) * page : 16e9;
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");  // cgroup v2; "max" when unlimited
  std::string line;
  if (cgroup && std::getline(cgroup, line))
    if (double c = parse_bytes(line); c > 0) limit = std::min(limit, c);
  if (const char *env = std::getenv("SNNC_MEMORY_LIMIT")) {
    const double v = parse_bytes(env);
    if (v > 0)
      limit = v;
    else
      throw std::runtime_error(std::string("SNNC_MEMORY_LIMIT='") + env +
                               "' is not a number of bytes (e.g. 8G, 512M)");
  }
  return limit;
}

std::string format_bytes(double bytes) {
  char text[64];
  if (bytes >= 1024.0 * 1024 * 1024)
    std::snprintf(text, sizeof text, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  else if (bytes >= 1024.0 * 1024)
    std::snprintf(text, sizeof text, "%.0f MiB", bytes / (1024.0 * 1024));
  else
    std::snprintf(text, sizeof text, "%.0f KiB", bytes / 1024.0);
  return text;
}

void check_memory(double bytes, const std::string &what) {
  const double limit = memory_limit_bytes();
  if (bytes <= 0.75 * limit) return;
  throw std::runtime_error(what + " needs about " + format_bytes(bytes) +
                           " of memory; snnc may use " + format_bytes(limit) + " here");
}

}  // namespace snnc::rt
