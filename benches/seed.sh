#!/usr/bin/env bash
# Training speed and memory of the seed SNN and CNN and of the deeper SNN
# ([Conv3x3→BN→IF→MaxPool2]×3, 64/128/128 channels), side by side with the anchor, in one run
# on this machine, at the seed experiment's shapes (batch [32, 8, 2, 32, 32], MSE, SGD lr 0.05):
#   - spikeforge: `spikeforge bench seed` (median step time, samples/s, peak RSS);
#   - SpikingJelly 2.0.0 / PyTorch CPU: benches/spikingjelly_seed.py (the SNNs in single-step
#     mode, as the original seed code ran it, and in multi-step mode; the CNN).
# Both on THREADS threads (default 2); BATCHES timed steps (DEEP_BATCHES for the deep SNN).
# ROUNDS rounds (default 3), each timing every network in spikeforge and then in the anchor,
# so that both sides of a ratio meet the same load on a shared machine: the table gives each
# side's median over the rounds and the median (and range) of the per-round ratios. Prints
# the table and writes it, with every round's records, to target/bench/seed-vs-spikingjelly.json.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
batches="${BATCHES:-30}"
deep_batches="${DEEP_BATCHES:-10}"
rounds="${ROUNDS:-3}"
python="$(benches/setup_anchor_env.sh)"

cargo build --release -p spikeforge
rm -f target/bench/seed-rounds.jsonl
for round in $(seq "$rounds"); do
    # One process per network, so that each peak memory figure is that network's own.
    for model in snn cnn deepsnn; do
        n="$batches"; [ "$model" = deepsnn ] && n="$deep_batches"
        RAYON_NUM_THREADS="$threads" target/release/spikeforge bench seed --model "$model" \
            --batches "$n" --json "target/bench/seed-$model.json" > /dev/null
        "$python" -c 'import json, sys; [print(json.dumps({"round": int(sys.argv[2]), "side": "spikeforge", **r})) for r in json.load(open(sys.argv[1]))["results"]]' \
            "target/bench/seed-$model.json" "$round" >> target/bench/seed-rounds.jsonl
    done
    for model in snn-single snn-multi cnn deep-single deep-multi; do
        n="$batches"; [ "${model#deep}" != "$model" ] && n="$deep_batches"
        "$python" benches/spikingjelly_seed.py "$model" "$threads" "$n" \
            | "$python" -c 'import json, sys; print(json.dumps({"round": int(sys.argv[1]), "side": "anchor", **json.load(sys.stdin)}))' "$round" \
            >> target/bench/seed-rounds.jsonl
    done
    echo "round $round of $rounds done" >&2
done

"$python" - <<'PY'
import json, pathlib, statistics

records = [json.loads(line) for line in pathlib.Path("target/bench/seed-rounds.jsonl").read_text().splitlines()]
rounds = sorted({r["round"] for r in records})
by = {(r["round"], r["side"], r["model"]): r for r in records}
rows = []
for model, references in (
    ("SNN", ("SNN single-step", "SNN multi-step")),
    ("CNN", ("CNN",)),
    ("DeepSNN", ("DeepSNN single-step", "DeepSNN multi-step")),
):
    for reference in references:
        pairs = [(by[(k, "spikeforge", model)], by[(k, "anchor", reference)]) for k in rounds]
        speedups = [b["seconds_per_100_batches"] / a["seconds_per_100_batches"] for a, b in pairs]
        median = lambda side, key: statistics.median(p[side][key] for p in pairs)
        ours_mib, anchor_mib = median(0, "peak_rss_increase_mib"), median(1, "peak_rss_increase_mib")
        rows.append({
            "spikeforge": model,
            "anchor": reference,
            "spikeforge_s_per_100_batches": median(0, "seconds_per_100_batches"),
            "anchor_s_per_100_batches": median(1, "seconds_per_100_batches"),
            "speedup": statistics.median(speedups),
            "speedup_per_round": speedups,
            "spikeforge_peak_rss_increase_mib": ours_mib,
            "anchor_peak_rss_increase_mib": anchor_mib,
            "memory_ratio": ours_mib / anchor_mib,
        })
print(f"\n{len(rounds)} rounds; each side's median s/100 batches; speedup = median of the per-round ratios (range)")
print(f"{'spikeforge':<10} {'anchor':<19} {'ours s/100':>10} {'anchor s/100':>12} {'speedup':>8} {'range':>13} {'ours +MiB':>9} {'anchor +MiB':>11} {'mem ratio':>9}")
for r in rows:
    low, high = min(r["speedup_per_round"]), max(r["speedup_per_round"])
    print(f"{r['spikeforge']:<10} {r['anchor']:<19} {r['spikeforge_s_per_100_batches']:>10.3f} {r['anchor_s_per_100_batches']:>12.3f} "
          f"{r['speedup']:>7.2f}x {f'{low:.2f}–{high:.2f}x':>13} {r['spikeforge_peak_rss_increase_mib']:>9.0f} "
          f"{r['anchor_peak_rss_increase_mib']:>11.0f} {r['memory_ratio']:>9.2f}")
record = {"rounds": records, "rows": rows}
pathlib.Path("target/bench/seed-vs-spikingjelly.json").write_text(json.dumps(record, indent=1))
print("wrote target/bench/seed-vs-spikingjelly.json")
PY
