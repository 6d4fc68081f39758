// Driver.cpp — file reading and the front half of the pipeline.
#include "Driver.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "LowerToIR.h"
#include "Parser.h"
#include "Sema.h"

namespace snnc::driver {

std::string read_source_text(const std::string &path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw std::runtime_error("'" + path + "' is a directory, not a .snn file");
  if (st.st_size > 64 * 1024 * 1024)
    throw std::runtime_error("'" + path + "' is larger than 64 MiB; not a model file?");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<SourceBuffer> read_source(const std::string &path) {
  try {
    return std::make_shared<SourceBuffer>(path, read_source_text(path));
  } catch (const std::runtime_error &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return nullptr;
  }
}

std::optional<ast::File> load_checked(const SourceBuffer &buffer, DiagnosticEngine &diags) {
  auto file = frontend::parse_file(buffer, diags);
  if (!file) return std::nullopt;
  if (!frontend::check(*file, diags)) return std::nullopt;
  return file;
}

std::optional<ir::Module> load_module(const SourceBuffer &buffer, DiagnosticEngine &diags,
                                      const std::string &sim) {
  auto file = load_checked(buffer, diags);
  if (!file) return std::nullopt;
  return frontend::lower_simulation(*file, sim, diags);
}

}  // namespace snnc::driver
