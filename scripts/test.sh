#!/usr/bin/env bash
# Builds snnc and runs the whole test suite (GoogleTest units + lit/FileCheck suites,
# which include the end-to-end simulations). Installs missing dependencies first, so it
# works on a fresh machine too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j "${SNNC_JOBS:-2}"
