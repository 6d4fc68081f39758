#!/usr/bin/env bash
# One-command set-up on a fresh Debian 12 machine (as root): installs the dependencies,
# builds snnc in ./build, installs the offline data sets (MNIST, Fashion-MNIST) in ./data,
# and runs the main job (the CUBA network, examples/cuba.snn).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/install-data.sh
echo "snnc setup: running the main job: build/bin/snnc run examples/cuba.snn"
build/bin/snnc run examples/cuba.snn --out out/cuba
