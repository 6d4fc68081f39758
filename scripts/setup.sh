#!/usr/bin/env bash
# One-command set-up on a fresh Debian 12 machine (as root): installs the dependencies,
# builds snnc in ./build, makes the Python package importable (`import snnc`), installs the offline data sets (MNIST, Fashion-MNIST) in ./data,
# and runs the main job: one epoch of the MNIST experiment (examples/mnist_csnn.snn, a CSNN
# against its CNN twin; without --epochs 1 it runs the full 10 epochs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/install-python.sh
bash scripts/install-data.sh
echo "snnc setup: running the main job: build/bin/snnc run examples/mnist_csnn.snn --epochs 1"
build/bin/snnc run examples/mnist_csnn.snn --epochs 1
