// Program.cpp — compiling a source into a Program (parse and check), and what it contains.
#include "Driver.h"
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
  return compile_source(driver::read_source_text(path), path);
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
