#!/usr/bin/env bash
# The Python datasets benchmark, side by side in one run: spikeforge's `CIFAR10DVS` (the Python
# package, built from this checkout) against SpikingJelly 2.0.0's, on the same generated folder of
# FILES (default 200) CIFAR10-DVS recordings (`spikeforge bench preprocess` writes them to
# target/bench/cifar10-dvs-synthetic, reused), THREADS threads (default 2), WORKERS DataLoader
# workers (default 0). Uses the anchor's environment (benches/setup_anchor_env.sh). Prints the
# figures and writes target/bench/python-datasets.json.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
files="${FILES:-200}"
workers="${WORKERS:-0}"
python="$(benches/setup_anchor_env.sh)"

# The same build as the tests' (`.ci/run`): the binary and the extension without a second burn.
PYO3_BUILD_EXTENSION_MODULE=1 cargo build --release --workspace --lib --bins --tests --examples
cp target/release/lib_spikeforge.so python/spikeforge/_spikeforge.abi3.so
data=target/bench/cifar10-dvs-synthetic
if [ "$(find "$data" -name '*.aedat' 2>/dev/null | wc -l)" -ne "$files" ]; then
  rm -rf "$data"
  RAYON_NUM_THREADS="$threads" target/release/spikeforge bench preprocess --files "$files" \
    --json target/bench/preprocess.json >/dev/null
fi
out=target/bench/python-datasets.json
RAYON_NUM_THREADS="$threads" PYTHONPATH=python "$python" benches/python_datasets.py "$data" "$threads" \
  "$workers" "$out"
"$python" - "$out" <<'PY'
import json, pathlib, sys

r = json.loads(pathlib.Path(sys.argv[1]).read_text())
ours, anchor = r["spikeforge"], r["spikingjelly_side"]
print(f"{r['recordings']} CIFAR10-DVS recordings, {r['threads']} threads, {r['workers']} DataLoader workers")
print(f"  first use   spikeforge {ours['first_use_s']:8.2f} s   SpikingJelly {anchor['first_use_s']:8.2f} s   "
      f"ratio {r['first_use_ratio']:6.1f}x")
print(f"  one epoch   spikeforge {ours['epoch_s']:8.2f} s   SpikingJelly {anchor['epoch_s']:8.2f} s   "
      f"ratio {r['epoch_ratio']:6.1f}x   ({ours['train_samples']} / {anchor['train_samples']} samples)")
print("wrote target/bench/python-datasets.json")
PY
