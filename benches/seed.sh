#!/usr/bin/env bash
# Training speed and memory of the seed SNN and CNN and of the deeper SNN
# ([Conv3x3→BN→IF→MaxPool2]×3, 64/128/128 channels), side by side with the anchor, in one run
# on this machine, at the seed report's shapes (batch [32, 8, 2, 32, 32], MSE, SGD lr 0.05):
#   - spikeforge: `spikeforge bench seed` (median step time, samples/s, peak RSS);
#   - SpikingJelly 2.0.0 / PyTorch CPU: benches/spikingjelly_seed.py (the SNNs in single-step
#     mode, as the seed report ran it, and in multi-step mode; the CNN).
# Both on THREADS threads (default 2); BATCHES timed steps (DEEP_BATCHES for the deep SNN). Prints the table with ratios and writes it to
# target/bench/seed-vs-spikingjelly.json.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
batches="${BATCHES:-30}"
deep_batches="${DEEP_BATCHES:-10}"
python="$(benches/setup_anchor_env.sh)"

cargo build --release -p spikeforge
# One process per network, so that each peak memory figure is that network's own.
for model in snn cnn deepsnn; do
    n="$batches"; [ "$model" = deepsnn ] && n="$deep_batches"
    RAYON_NUM_THREADS="$threads" target/release/spikeforge bench seed --model "$model" \
        --batches "$n" --json "target/bench/seed-$model.json"
done
anchor="["
for model in snn-single snn-multi cnn deep-single deep-multi; do
    n="$batches"; [ "${model#deep}" != "$model" ] && n="$deep_batches"
    anchor+="$("$python" benches/spikingjelly_seed.py "$model" "$threads" "$n"),"
done
anchor="${anchor%,}]"

"$python" - "$anchor" <<'PY'
import json, pathlib, sys

anchor = json.loads(sys.argv[1])
spikeforge = [json.loads(pathlib.Path(f"target/bench/seed-{m}.json").read_text()) for m in ("snn", "cnn", "deepsnn")]
ours = {r["model"]: r for record in spikeforge for r in record["results"]}
theirs = {r["model"]: r for r in anchor}
rows = []
for model, references in (
    ("SNN", ("SNN single-step", "SNN multi-step")),
    ("CNN", ("CNN",)),
    ("DeepSNN", ("DeepSNN single-step", "DeepSNN multi-step")),
):
    for reference in references:
        a, b = ours[model], theirs[reference]
        rows.append({
            "spikeforge": model,
            "anchor": reference,
            "spikeforge_s_per_100_batches": a["seconds_per_100_batches"],
            "anchor_s_per_100_batches": b["seconds_per_100_batches"],
            "speedup": b["seconds_per_100_batches"] / a["seconds_per_100_batches"],
            "spikeforge_peak_rss_increase_mib": a["peak_rss_increase_mib"],
            "anchor_peak_rss_increase_mib": b["peak_rss_increase_mib"],
            "memory_ratio": a["peak_rss_increase_mib"] / b["peak_rss_increase_mib"],
        })
print(f"\n{'spikeforge':<10} {'anchor':<19} {'ours s/100':>10} {'anchor s/100':>12} {'speedup':>8} {'ours +MiB':>9} {'anchor +MiB':>11} {'mem ratio':>9}")
for r in rows:
    print(f"{r['spikeforge']:<10} {r['anchor']:<19} {r['spikeforge_s_per_100_batches']:>10.3f} {r['anchor_s_per_100_batches']:>12.3f} "
          f"{r['speedup']:>7.2f}x {r['spikeforge_peak_rss_increase_mib']:>9.0f} {r['anchor_peak_rss_increase_mib']:>11.0f} {r['memory_ratio']:>9.2f}")
record = {"anchor": anchor, "spikeforge": spikeforge, "rows": rows}
pathlib.Path("target/bench/seed-vs-spikingjelly.json").write_text(json.dumps(record, indent=1))
print("wrote target/bench/seed-vs-spikingjelly.json")
PY
