#!/usr/bin/env bash
# Creates (once) the Python environment of the anchor: PyTorch + SpikingJelly 2.0.0 from PyPI,
# in benches/.venv (git-ignored). Prints the path of its python.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, spikingjelly" 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet torch "spikingjelly==2.0.0" numpy >&2
fi
echo "$venv/bin/python"
