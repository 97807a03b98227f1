#!/usr/bin/env bash
# Checks once that SpikingJelly 2.0.0's CIFAR10-DVS loader reads `spikeforge emulate` output
# with the image upright: draws an asymmetric glyph, emulates it, loads the `.aedat` with
# SpikingJelly (in the environment benches/setup_anchor_env.sh makes from PyPI), and compares
# where the events fall. Exit status 0 when upright.
set -euo pipefail
cd "$(dirname "$0")/.."
python="$(benches/setup_anchor_env.sh)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/images/glyph"
"$python" - "$work/images/glyph/f.png" <<'PY'
import sys
import numpy as np
from PIL import Image
image = np.full((64, 64), 128, np.uint8)
image[4:14, 4:60] = 255   # top bar
image[4:60, 4:14] = 255   # left bar
image[28:36, 4:40] = 255  # middle bar
Image.fromarray(image).save(sys.argv[1])
PY
cargo build --release -p spikeforge
target/release/spikeforge emulate --input images --source "$work/images" --out "$work/out"
"$python" scripts/check_emulator_upright.py "$work/out/glyph/images_glyph_0.aedat"
