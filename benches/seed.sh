#!/usr/bin/env bash
# Training speed and memory of every benchmarked network, side by side with the anchor, in one
# run on this machine, on two input distributions (MSE, SGD lr 0.05):
#   - networks: the seed SNN and CNN and the deeper SNN ([Conv3x3→BN→IF→MaxPool2]×3,
#     64/128/128 channels) at the seed's batch [T=8, 32, 2, 32, 32]; with ZOO=1 also the zoo's
#     cifar10dvs-net (128×128) and vggsnn (48×48) at [8, ZOO_BATCH (default 2), 2, h, w],
#     ZOO_BATCHES timed steps (default 3) after one untimed;
#   - inputs: `uniform` (frames uniform in [0, 1)) and `events` (area-averaged event frames:
#     the first training samples of the N-MNIST folder EVENTS_NMNIST, default the shared
#     N-MNIST subset, for the 32×32 nets; of the built-in dataset for the zoo nets);
#   - spikeforge: `spikeforge bench seed` (median step time, samples/s, peak RSS), which also
#     writes the batch it timed, so that the anchor times the very same numbers;
#   - SpikingJelly 2.0.0 / PyTorch CPU: benches/spikingjelly_seed.py, every SNN in single-step
#     mode (as the original seed code ran it) and in multi-step mode; the ratio is against the
#     faster of the two in each round.
# Both on THREADS threads (default 2); BATCHES timed steps (DEEP_BATCHES for the deep nets).
# ROUNDS rounds (default 3), each timing every network and input in spikeforge and then in the
# anchor, so that both sides of a ratio meet the same load on a shared machine: the table gives
# each side's median over the rounds and the median (and range) of the per-round ratios.
# SPIKEFORGE_DENORMALS=keep times spikeforge without flush-to-zero (to see the cliff), and
# FLUSH_DENORMAL=1 times the anchor with torch.set_flush_denormal(True).
# Prints the table and writes it, with every round's records, to
# target/bench/seed-vs-spikingjelly.json.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
batches="${BATCHES:-30}"
deep_batches="${DEEP_BATCHES:-10}"
rounds="${ROUNDS:-3}"
zoo_batch="${ZOO_BATCH:-2}"
zoo_batches="${ZOO_BATCHES:-3}"
nmnist="${EVENTS_NMNIST:-../shared/data/nmnist/slayer_NMNISTsmall}"
python="$(benches/setup_anchor_env.sh)"

[ -d "$nmnist" ] || { echo "EVENTS_NMNIST: no N-MNIST folder at $nmnist" >&2; exit 1; }
# The binary of the tests' release build (the README's test command builds it too), so that
# benchmarking after the tests compiles nothing again.
cargo test --release --workspace --no-run
nets="snn cnn deepsnn"
[ "${ZOO:-0}" = 1 ] && nets="$nets cifar10dvs-net vggsnn"
mkdir -p target/bench
rm -f target/bench/seed-rounds.jsonl

# spikeforge's options for a network: which one, its batch, and where its event frames come from.
model_args() {
    case "$1" in
        snn) echo "--model SNN" ;;
        cnn) echo "--model CNN" ;;
        deepsnn) echo "--model DeepSNN" ;;
        cifar10dvs-net) echo "--model cifar10dvs-net --batch-size $zoo_batch --size 128" ;;
        vggsnn) echo "--model vggsnn --batch-size $zoo_batch --size 48" ;;
    esac
}
event_args() {
    case "$1" in
        snn | cnn | deepsnn) echo "--frames-from dataset --dataset nmnist --root $nmnist" ;;
        *) echo "--frames-from dataset --dataset default" ;;
    esac
}
anchor_models() {
    case "$1" in
        snn) echo "snn-single snn-multi" ;;
        cnn) echo "cnn" ;;
        deepsnn) echo "deep-single deep-multi" ;;
        cifar10dvs-net) echo "cifar10dvs-single cifar10dvs-multi" ;;
        vggsnn) echo "vggsnn-single vggsnn-multi" ;;
    esac
}

for round in $(seq "$rounds"); do
    for input in uniform events; do
        for net in $nets; do
            n="$batches" warmup=3
            [ "$net" = deepsnn ] && n="$deep_batches"
            [ "$net" = cifar10dvs-net ] || [ "$net" = vggsnn ] && n="$zoo_batches" warmup=1
            extra=""; [ "$input" = events ] && extra="$(event_args "$net")"
            frames="target/bench/batch-$net-$input.f32"
            # One process per network, so that each peak memory figure is that network's own.
            # shellcheck disable=SC2046
            RAYON_NUM_THREADS="$threads" target/release/spikeforge bench seed $(model_args "$net") \
                $extra --batches "$n" --warmup "$warmup" --save-batch "$frames" --json "target/bench/seed-$net.json" \
                > /dev/null
            "$python" -c 'import json, sys; r = json.load(open(sys.argv[1])); [print(json.dumps({"round": int(sys.argv[2]), "input": sys.argv[3], "net": sys.argv[4], "side": "spikeforge", "cpu": r["cpu"], "flush_denormals": r["flush_denormals"], **m})) for m in r["results"]]' \
                "target/bench/seed-$net.json" "$round" "$input" "$net" >> target/bench/seed-rounds.jsonl
            shape="$("$python" -c 'import json, sys; print(",".join(map(str, json.load(open(sys.argv[1]))["results"][0]["batch_shape"])))' "target/bench/seed-$net.json")"
            for model in $(anchor_models "$net"); do
                FRAMES="$frames" SHAPE="$shape" "$python" benches/spikingjelly_seed.py "$model" "$threads" "$n" "$warmup" \
                    | "$python" -c 'import json, sys; print(json.dumps({"round": int(sys.argv[1]), "input": sys.argv[2], "net": sys.argv[3], "side": "anchor", **json.load(sys.stdin)}))' \
                        "$round" "$input" "$net" >> target/bench/seed-rounds.jsonl
            done
        done
    done
    echo "round $round of $rounds done" >&2
done

"$python" - <<'PY'
import json, pathlib, statistics

records = [json.loads(line) for line in pathlib.Path("target/bench/seed-rounds.jsonl").read_text().splitlines()]
rounds = sorted({r["round"] for r in records})
keys = list(dict.fromkeys((r["net"], r["input"]) for r in records))
rows = []
for net, input in keys:
    per_round = []
    for k in rounds:
        ours = next(r for r in records if (r["round"], r["net"], r["input"], r["side"]) == (k, net, input, "spikeforge"))
        anchors = [r for r in records if (r["round"], r["net"], r["input"], r["side"]) == (k, net, input, "anchor")]
        fastest = min(anchors, key=lambda r: r["seconds_per_100_batches"])
        per_round.append((ours, fastest, anchors))
    median = lambda values: statistics.median(values)
    speedups = [b["seconds_per_100_batches"] / a["seconds_per_100_batches"] for a, b, _ in per_round]
    ours_mib = median(a["peak_rss_increase_mib"] for a, _, _ in per_round)
    anchor_mib = median(b["peak_rss_increase_mib"] for _, b, _ in per_round)
    rows.append({
        "net": net,
        "input": input,
        "batch_shape": per_round[0][0]["batch_shape"],
        "input_density": per_round[0][0]["input_density"],
        "fastest_anchor": statistics.mode(b["model"] for _, b, _ in per_round),
        "spikeforge_s_per_100_batches": median(a["seconds_per_100_batches"] for a, _, _ in per_round),
        "anchor_s_per_100_batches": {m: median(r["seconds_per_100_batches"] for _, _, rs in per_round for r in rs if r["model"] == m)
                                     for m in dict.fromkeys(r["model"] for r in per_round[0][2])},
        "speedup": median(speedups),
        "speedup_per_round": speedups,
        "spikeforge_peak_rss_increase_mib": ours_mib,
        "anchor_peak_rss_increase_mib": anchor_mib,
        "memory_ratio": ours_mib / anchor_mib,
    })
first = records[0]
print(f"\n{len(rounds)} rounds on {first.get('cpu', '?')}, flush-to-zero {'on' if first.get('flush_denormals') else 'off'}; "
      "each side's median s/100 batches; speedup = median of the per-round ratios to the fastest anchor path (range)")
print(f"{'network':<15} {'input':<8} {'density':>7} {'ours s/100':>10} {'anchor s/100 (paths)':<44} {'speedup':>8} {'range':>13} {'ours +MiB':>9} {'anchor +MiB':>11} {'mem ratio':>9}")
for r in rows:
    low, high = min(r["speedup_per_round"]), max(r["speedup_per_round"])
    paths = ", ".join(f"{m.split()[-1] if ' ' in m else m} {s:.3f}" for m, s in r["anchor_s_per_100_batches"].items())
    print(f"{r['net']:<15} {r['input']:<8} {r['input_density']:>7.3f} {r['spikeforge_s_per_100_batches']:>10.3f} {paths:<44} "
          f"{r['speedup']:>7.2f}x {f'{low:.2f}–{high:.2f}x':>13} {r['spikeforge_peak_rss_increase_mib']:>9.0f} "
          f"{r['anchor_peak_rss_increase_mib']:>11.0f} {r['memory_ratio']:>9.2f}")
for net in dict.fromkeys(r["net"] for r in rows):
    times = {r["input"]: r["spikeforge_s_per_100_batches"] for r in rows if r["net"] == net}
    if len(times) == 2:
        print(f"{net}: events / uniform step time {times['events'] / times['uniform']:.3f}")
pathlib.Path("target/bench/seed-vs-spikingjelly.json").write_text(json.dumps({"rounds": records, "rows": rows}, indent=1))
print("wrote target/bench/seed-vs-spikingjelly.json")
PY
