// BuildCommand.h — `snnc build`: Program::build (library/Builder) with its report printed.
#pragma once
#include <string>

#include "snnc/snnc.h"

namespace snnc::driver {

/// Returns the process exit code.
int run_build(const BuildOptions &options, const Program &program);

}  // namespace snnc::driver
