#!/usr/bin/env bash
# The NIR crosscheck (docs/nir.md): networks trained by spikeforge on the built-in dataset,
# exported with `spikeforge export`, read by the Python `nir` package and run by
# SpikingJelly's NIR import on the same test frames; spikes compared bit for bit.
#
#   scripts/nir_crosscheck.sh [WORK_DIR]        (default /tmp/nir-run; writes docs/nir.md)
#
# Needs the release build (cargo build --release --workspace --lib --bins --tests --examples)
# and a Python with torch, SpikingJelly 2.0.0, nir 1.0.8 and nirtorch 2.6, `$PYTHON`
# (default `python3`; e.g. `python3 -m venv VENV && VENV/bin/pip install torch
# spikingjelly==2.0.0 nir==1.0.8 nirtorch==2.6`, then `PYTHON=VENV/bin/python`).
# Networks: the zoo's seed-snn (conv → IF → linear), 3 epochs; scripts/nir_lif_bn.toml
# (conv → BN → LIF → avg pool → conv → IF → avg pool → linear), 2 epochs; and that network
# imported back from its NIR file (BN folded on both sides).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/nir-run}
python=${PYTHON:-python3}
bin=target/release/spikeforge
outputs=target/release/examples/nir_outputs
rm -rf "$work" && mkdir -p "$work"
$bin train --model seed-snn --epochs 3 --out "$work/seed-snn"
$bin train --model scripts/nir_lif_bn.toml --epochs 2 --lr 0.1 --out "$work/lif-bn"
for run in seed-snn lif-bn; do
  $bin export "$work/$run" --nir "$work/$run.nir"
  $outputs "$work/$run" "$work/$run.json" 64
done
$bin import "$work/lif-bn.nir" --out "$work/lif-bn-imported"
$outputs "$work/lif-bn-imported" "$work/lif-bn-imported.json" 64 "$work/lif-bn"
"$python" scripts/nir_crosscheck.py --doc docs/nir.md --json "$work/crosscheck.json" \
  "$work/seed-snn.nir" "$work/seed-snn.json" \
  "$work/lif-bn.nir" "$work/lif-bn.json" \
  "$work/lif-bn.nir" "$work/lif-bn-imported.json"
