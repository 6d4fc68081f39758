// Program.cpp — compiling a source into a Program (parse and check), and what it contains.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "Parser.h"
#include "ProgramImpl.h"
#include "Sema.h"

namespace snnc {

namespace driver {

std::string render_all(const DiagnosticEngine &diags) {
  std::string text;
  for (const auto &d : diags.diagnostics()) text += diags.render(d);
  return text;
}

}  // namespace driver

Program Program::compile_source(const std::string &text, const std::string &name) {
  auto impl = std::make_shared<Impl>();
  impl->buffer = std::make_shared<SourceBuffer>(name, text);
  DiagnosticEngine diags(impl->buffer, /*print=*/false);
  auto file = frontend::parse_file(*impl->buffer, diags);
  if (!file || !frontend::check(*file, diags)) throw CompileError(driver::render_all(diags));
  impl->file = std::move(*file);
  for (const auto &d : diags.diagnostics())
    if (d.severity != Severity::Error) impl->warnings.push_back(diags.render(d));
  return Program(std::move(impl));
}

Program Program::compile_file(const std::string &path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw std::runtime_error("'" + path + "' is a directory, not a .snn file");
  if (st.st_size > 64 * 1024 * 1024)
    throw std::runtime_error("'" + path + "' is larger than 64 MiB; not a model file?");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return compile_source(text.str(), path);
}

const std::string &Program::name() const {
  return impl_->buffer->name();
}

std::vector<std::string> Program::simulations() const {
  std::vector<std::string> names;
  for (const auto &s : impl_->file.simulations) names.push_back(s.name);
  return names;
}

std::vector<std::string> Program::experiments() const {
  std::vector<std::string> names;
  for (const auto &e : impl_->file.experiments) names.push_back(e.name);
  return names;
}

std::vector<std::string> Program::networks() const {
  std::vector<std::string> names;
  for (const auto &n : impl_->file.networks) names.push_back(n.name);
  return names;
}

const std::vector<std::string> &Program::warnings() const {
  return impl_->warnings;
}

}  // namespace snnc
