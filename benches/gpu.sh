#!/usr/bin/env bash
# The GPU checks and benchmarks on a machine with an NVIDIA GPU, in one script:
#   1. the GPU tests on CUDA and wgpu (the fused CubeCL neuron kernels against SpikingJelly's
#      fixtures and against the reference composition; one training step of the seed SNN),
#      failing rather than skipping where a device cannot be opened;
#   2. training speed of the seed SNN and CNN on the GPU (batch [32, 8, 2, 32, 32], MSE, SGD
#      lr 0.05): `spikeforge bench seed --device cuda` against SpikingJelly 2.0.0 / PyTorch on
#      the same card (benches/spikingjelly_seed.py with DEVICE=cuda: the SNN in multi-step
#      mode, whose IF runs SpikingJelly's CUDA provider, Triton or CuPy, and in single-step
#      mode as the original seed code ran it; the CNN), BATCHES timed steps each (default 100),
#      ROUNDS interleaved rounds (default 3), each step timed to a device synchronisation.
# Prints the table (medians over the rounds, ratio = anchor time / spikeforge time) and writes
# it with every round's records to target/bench/gpu-vs-spikingjelly.json.
#
# The anchor's python is $PYTHON if set (a GPU machine without internet access brings its own
# torch + spikingjelly 2.0.0), else benches/setup_anchor_env.sh's venv.
set -euo pipefail
cd "$(dirname "$0")/.."
batches="${BATCHES:-100}"
rounds="${ROUNDS:-3}"
python="${PYTHON:-$(benches/setup_anchor_env.sh)}"

echo "== GPU tests (CUDA and wgpu)"
SPIKEFORGE_REQUIRE_GPU=1 cargo test --release -p spikeforge-snn --features cuda,wgpu \
    --test neuron_fixtures --test fused_vs_reference --test seednet_fixtures --test training gpu

echo "== training speed on the GPU"
cargo build --release -p spikeforge --features cuda
mkdir -p target/bench
rm -f target/bench/gpu-rounds.jsonl
for round in $(seq "$rounds"); do
    for model in snn cnn; do
        target/release/spikeforge bench seed --device cuda --model "$model" --batches "$batches" \
            --json "target/bench/gpu-$model.json" > /dev/null
        "$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); [print(json.dumps({"round": int(sys.argv[2]), "side": "spikeforge", "device": r["device"], **m})) for m in r["results"]]' \
            "target/bench/gpu-$model.json" "$round" >> target/bench/gpu-rounds.jsonl
    done
    for model in snn-multi snn-single cnn; do
        DEVICE=cuda "$python" benches/spikingjelly_seed.py "$model" 2 "$batches" \
            | "$python" -c 'import json, sys; print(json.dumps({"round": int(sys.argv[1]), "side": "anchor", **json.load(sys.stdin)}))' "$round" \
            >> target/bench/gpu-rounds.jsonl
    done
    echo "round $round of $rounds done" >&2
done

"$python" - <<'PY'
import json, pathlib, statistics

records = [json.loads(line) for line in pathlib.Path("target/bench/gpu-rounds.jsonl").read_text().splitlines()]
rounds = sorted({r["round"] for r in records})
by = {(r["round"], r["side"], r["model"]): r for r in records}
rows = []
for model, reference in (("SNN", "SNN multi-step"), ("SNN", "SNN single-step"), ("CNN", "CNN")):
    pairs = [(by[(k, "spikeforge", model)], by[(k, "anchor", reference)]) for k in rounds]
    ratios = [b["seconds_per_100_batches"] / a["seconds_per_100_batches"] for a, b in pairs]
    rows.append({
        "spikeforge": model,
        "anchor": reference,
        "device": pairs[0][0]["device"],
        "anchor_device": pairs[0][1]["device"],
        "spikeforge_s_per_100_batches": statistics.median(a["seconds_per_100_batches"] for a, _ in pairs),
        "anchor_s_per_100_batches": statistics.median(b["seconds_per_100_batches"] for _, b in pairs),
        "speedup": statistics.median(ratios),
        "speedup_per_round": ratios,
    })
print(f"\n{len(rounds)} rounds on {rows[0]['device']} / {rows[0]['anchor_device']}; medians of s/100 batches; speedup = anchor / spikeforge")
print(f"{'spikeforge':<10} {'anchor':<16} {'ours s/100':>10} {'anchor s/100':>12} {'speedup':>8} {'range':>13}")
for r in rows:
    low, high = min(r["speedup_per_round"]), max(r["speedup_per_round"])
    print(f"{r['spikeforge']:<10} {r['anchor']:<16} {r['spikeforge_s_per_100_batches']:>10.3f} "
          f"{r['anchor_s_per_100_batches']:>12.3f} {r['speedup']:>7.2f}x {f'{low:.2f}–{high:.2f}x':>13}")
pathlib.Path("target/bench/gpu-vs-spikingjelly.json").write_text(json.dumps({"rounds": records, "rows": rows}, indent=1))
print("wrote target/bench/gpu-vs-spikingjelly.json")
PY
