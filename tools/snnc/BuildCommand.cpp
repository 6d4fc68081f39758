// BuildCommand.cpp — prints what `snnc build` built, or why it could not.
#include "BuildCommand.h"

#include <iostream>

namespace snnc::driver {

int run_build(const BuildOptions &options, const Program &program) {
  BuildOptions o = options;
  o.on_log = [](const std::string &line) { std::cout << line; };
  try {
    const BuildResult r = program.build(o);
    std::cout << "snnc: built " << r.output << " (network " << r.network << ", " << r.tensors
              << " weight tensors embedded, " << r.target << "); try: " << r.output << " --help\n";
    return 0;
  } catch (const CompileError &e) {
    std::cerr << e.what();
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace snnc::driver
