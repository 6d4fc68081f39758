#!/usr/bin/env bash
# Installs snnc's build and test dependencies from Debian 12 packages (run as root).
# Idempotent: packages already present are left alone.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build git ca-certificates python3
  llvm-19-dev llvm-19-tools libzstd-dev libedit-dev libcurl4-openssl-dev zlib1g-dev
  antlr4 libantlr4-runtime-dev
  libfmt-dev libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev
  libopenblas-dev libpng-dev
  strace
  clang-19 libclang-rt-19-dev libfuzzer-19-dev
  pybind11-dev python3-dev python3-numpy python3-matplotlib
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "snnc setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "snnc setup: all build dependencies present"
fi
