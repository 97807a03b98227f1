#!/usr/bin/env bash
# The preprocessing benchmark, side by side with the anchor, in one run on this machine:
#   - spikeforge: `spikeforge bench preprocess` generates FILES (default 1000) CIFAR10-DVS-format
#     recordings of 100k–300k events (target/bench/cifar10-dvs-synthetic, reused), then times
#     reading their bytes from the page cache and `prepare` (parse + integrate T=8 by number +
#     area resize to 32×32 + cache);
#   - SpikingJelly 2.0.0: its CIFAR10DVS preprocessing of the same files
#     (benches/spikingjelly_preprocess.py), in the Python environment benches/setup_anchor_env.sh
#     makes from PyPI.
# Both on THREADS threads (default 2). Prints the figures and ratios and writes them to
# target/bench/preprocess-vs-spikingjelly.json.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
files="${FILES:-1000}"
python="$(benches/setup_anchor_env.sh)"

cargo build --release -p spikeforge
RAYON_NUM_THREADS="$threads" target/release/spikeforge bench preprocess --files "$files" \
  --json target/bench/preprocess.json
anchor="$("$python" benches/spikingjelly_preprocess.py target/bench/cifar10-dvs-synthetic "$threads")"

"$python" - "$anchor" <<'PY'
import json, pathlib, sys

anchor = json.loads(sys.argv[1])
ours = json.loads(pathlib.Path("target/bench/preprocess.json").read_text())
ratio = anchor["total_s"] / ours["prepare_s"]
record = {"spikeforge": ours, "spikingjelly": anchor, "spikingjelly_over_spikeforge": ratio}
print(f"\n{ours['files']} recordings, {ours['events'] / 1e6:.0f} M events, {ours['threads']} threads")
print(f"  read the bytes (page cache)   {ours['read_bytes_s']:8.3f} s")
print(f"  spikeforge prepare            {ours['prepare_s']:8.3f} s  ({ours['prepare_over_read']:.1f}x the read, "
      f"{ours['events_per_s'] / 1e6:.0f} M events/s, {ours['files_per_s']:.0f} files/s)")
print(f"  SpikingJelly 2.0.0            {anchor['total_s']:8.3f} s  (aedat->npz {anchor['aedat_to_events_np_s']:.1f} s, "
      f"npz->frames {anchor['events_np_to_frames_s']:.1f} s)")
print(f"  SpikingJelly / spikeforge     {ratio:8.1f}x")
out = pathlib.Path("target/bench/preprocess-vs-spikingjelly.json")
out.write_text(json.dumps(record, indent=1) + "\n")
print(f"wrote {out}")
PY
