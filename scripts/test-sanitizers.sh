#!/usr/bin/env bash
# Builds snnc with AddressSanitizer + UndefinedBehaviorSanitizer (clang-19, build-asan/) and
# runs the unit tests and the lit suites frontend, passes, driver and e2e under them. Not
# instrumented: the JIT'ed and generated code, libLLVM, OpenBLAS, ANTLR's runtime (their
# memory is still checked where snnc's code touches it).
# Left out (found by what they run, so new tests are sorted too): tests that link standalone
# binaries (`snnc build`: its link line does not know the sanitizer runtimes, and the GPU
# ones build binaries too), tests that cap the address space (memory_limit.py: ASan
# reserves terabytes of shadow memory up front) and tests run under strace (LeakSanitizer
# cannot work under ptrace).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DSNNC_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only"
fi
cmake --build build-asan -j "${SNNC_JOBS:-2}" --target snnc snnc_unit_tests

# abort (not exit 1) on a report, so that a test expecting a failure (`not snnc ...`) fails
# on it too; leaks are checked, third-party ones suppressed (test/sanitizers/lsan.supp)
supp=$PWD/test/sanitizers
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_init_order=1
export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
status=0
build-asan/test/snnc_unit_tests --gtest_brief=1 || status=1

excluded=$(grep -lE 'snnc build ([^-]|--target)|memory_limit\.py|strace' test/lit/*/*.test test/lit/*/*.snn |
  sed 's|^test/lit/||; s|\.|\\.|g' | paste -sd'|')
lit=$(sed -n 's/^SNNC_LIT:FILEPATH=//p' build-asan/CMakeCache.txt)
[[ $lit == *.py ]] && lit="python3 $lit"
$lit -sv --filter-out ":: ($excluded)$" -j "${SNNC_JOBS:-2}" \
  build-asan/test/lit/frontend build-asan/test/lit/passes build-asan/test/lit/driver \
  build-asan/test/lit/e2e || status=1
exit $status
