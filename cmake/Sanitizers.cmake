# Sanitizer and fuzzing configurations, each in a build directory of its own (clang only):
#   -DSNNC_SANITIZE=ON  AddressSanitizer + UndefinedBehaviorSanitizer on all of snnc
#                       (build-asan/, scripts/test-sanitizers.sh)
#   -DSNNC_FUZZ=ON      the same with libFuzzer's coverage, and the targets of test/fuzz
#                       (build-fuzz/, scripts/fuzz.sh)
# Excluded checks: `function` and `vptr`. Generated code is called through casted function
# pointers (JIT'ed kernels, the entry points of a dlopen'ed library), which `function`
# reports and whose callee it probes before the entry point; libLLVM is built without RTTI,
# which `vptr` needs on every polymorphic object it sees.
option(SNNC_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(SNNC_FUZZ "Build the libFuzzer targets of test/fuzz (with ASan and UBSan)" OFF)

if(SNNC_SANITIZE OR SNNC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SNNC_SANITIZE / SNNC_FUZZ need clang (e.g. CXX=clang++-19)")
  endif()
  set(SNNC_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize=function,vptr
                           -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_compile_options(${SNNC_SANITIZER_FLAGS} -Wno-unknown-warning-option)
  add_link_options(-fsanitize=address,undefined)
  if(SNNC_FUZZ)
    # every library gets coverage; only the fuzz targets link libFuzzer's main
    add_compile_options(-fsanitize=fuzzer-no-link)
  endif()
endif()
