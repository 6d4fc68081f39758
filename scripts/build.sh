#!/usr/bin/env bash
# Configures (once) and builds snnc in ./build with Ninja, two jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j "${SNNC_JOBS:-2}"
