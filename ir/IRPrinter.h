// IRPrinter.h — the textual form of the IR (what `snnc emit --ir` prints).
//
// The text is complete: IRParser reads it back to an equal module, so every pass can be
// tested on hand-written input (`snnc opt --pass=NAME file.ir`) and print -> parse -> print
// is the identity.
#pragma once
#include <string>

#include "IR.h"

namespace snnc::ir {

std::string print(const Module &module);

}  // namespace snnc::ir
