#!/usr/bin/env bash
# Builds the libFuzzer targets of test/fuzz (clang-19, ASan + UBSan, in build-fuzz/) and runs
# each for SECONDS (first argument, default 60) on its seed corpus (test/fuzz/corpus/<target>,
# never modified: new inputs go to build-fuzz/corpus/<target>). Exits non-zero if any target
# crashed, hung (10 s on one input), leaked or went over 2 GiB, printing the reproducer's
# path; `build-fuzz/fuzz/fuzz_<target> FILE` reruns it. Targets: snn (front end), ir, model,
# idx, safetensors, image (PNG/PGM readers of standalone binaries); a second argument runs
# only those named (comma-separated).
# Cost on 2 cores: the fuzz build takes about 4 minutes from scratch (a target runs on 1 core).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
targets=${2:-snn,ir,model,idx,safetensors,image}
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DSNNC_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only"
fi
cmake --build build-fuzz -j "${SNNC_JOBS:-2}" --target snnc_fuzzers

# halt at the first report, symbolized; leaks are findings too
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for t in ${targets//,/ }; do
  work=build-fuzz/corpus/$t artifacts=build-fuzz/artifacts/$t
  mkdir -p "$work" "$artifacts"
  dict=()
  [ -f "test/fuzz/$t.dict" ] && dict=("-dict=test/fuzz/$t.dict")
  echo "== fuzz_$t: ${seconds} s"
  log=build-fuzz/fuzz_$t.log
  if build-fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" \
      "$work" "test/fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$log" || true
  else
    tail -n 60 "$log"
    failed+=("$t")
    grep -Eo "Test unit written to \S+" "$log" | sed "s/^/fuzz_$t: /" || true
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: failures in ${failed[*]} (logs: build-fuzz/fuzz_<target>.log)"
  exit 1
fi
echo "fuzz: no failures"
