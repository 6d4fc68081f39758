#!/usr/bin/env bash
# Makes the Python package built in build/python importable by Debian's python3 (`import
# snnc`): a .pth file in its site-packages naming that directory. Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3
if [ ! -f build/python/snnc/__init__.py ]; then
  echo "snnc setup: no Python package in build/python (pybind11-dev or python3-dev missing?)" >&2
  exit 1
fi
site=$("$python" -c 'import site; print(site.getsitepackages()[0])')
mkdir -p "$site"
echo "$(pwd)/build/python" > "$site/snnc.pth"
"$python" -c 'import snnc' && echo "snnc setup: 'import snnc' works for $python (via $site/snnc.pth)"
# the python3 first on PATH too, when it is another interpreter of the same version
other=$(command -v python3 || true)
if [ -n "$other" ] && [ "$("$other" -c 'import sys; print(sys.prefix)')" != "$("$python" -c 'import sys; print(sys.prefix)')" ] &&
   [ "$("$other" -c 'import sys; print(sys.version_info[:2])')" = "$("$python" -c 'import sys; print(sys.version_info[:2])')" ]; then
  other_site=$("$other" -c 'import site; print(site.getsitepackages()[0])')
  mkdir -p "$other_site"
  echo "$(pwd)/build/python" > "$other_site/snnc.pth"
  "$other" -c 'import snnc' && echo "snnc setup: and for $other (NumPy results need numpy there)"
fi
