#!/usr/bin/env bash
# The neuron-layer benchmark, side by side with the anchor, in one run on this machine:
#   - spikeforge: `cargo bench --bench neurons` (criterion): fused op and reference
#     composition, IF and LIF, forward + backward, T=8, input [8, 32, 32, 32, 32];
#   - SpikingJelly 2.0.0 on PyTorch CPU: the same workload (benches/spikingjelly_neurons.py),
#     in a Python environment this script sets up from PyPI (benches/.venv).
# Both on THREADS threads (default 2). Prints the medians and ratios and writes them to
# target/bench/neurons-vs-spikingjelly.json.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
python="$(benches/setup_anchor_env.sh)"

RAYON_NUM_THREADS="$threads" cargo bench -p spikeforge-snn --bench neurons
anchor="$("$python" benches/spikingjelly_neurons.py "$threads" 10)"

mkdir -p target/bench
"$python" - "$anchor" <<'PY'
import json, pathlib, sys

anchor = json.loads(sys.argv[1])
group = pathlib.Path("target/criterion/neuron_forward_backward_T8_32x32x32x32")
rows, record = [], {"anchor": anchor, "spikeforge_median_s": {}, "ratios": {}}
for neuron in ("IF", "LIF"):
    ours = {}
    for implementation in ("Fused", "Reference"):
        estimates = json.loads((group / f"{neuron}_{implementation}" / "new/estimates.json").read_text())
        ours[implementation] = estimates["median"]["point_estimate"] / 1e9
        record["spikeforge_median_s"][f"{neuron}/{implementation}"] = ours[implementation]
    sj_multi = anchor["median_s"][f"{neuron}/multi_step"]
    sj_single = anchor["median_s"][f"{neuron}/single_step"]
    ratios = {
        "reference_over_fused": ours["Reference"] / ours["Fused"],
        "spikingjelly_multi_step_over_fused": sj_multi / ours["Fused"],
        "spikingjelly_single_step_over_fused": sj_single / ours["Fused"],
    }
    record["ratios"][neuron] = ratios
    rows.append((neuron, ours["Fused"], ours["Reference"], sj_multi, sj_single, ratios))

print(f"\n{'neuron':<6} {'fused':>9} {'reference':>10} {'SJ multi':>9} {'SJ single':>10}"
      f" {'ref/fused':>10} {'SJ/fused':>9}   (median ms, torch {anchor['torch']}, "
      f"{anchor['threads']} threads)")
for neuron, fused, reference, multi, single, r in rows:
    print(f"{neuron:<6} {fused*1e3:>9.1f} {reference*1e3:>10.1f} {multi*1e3:>9.1f} "
          f"{single*1e3:>10.1f} {r['reference_over_fused']:>9.1f}x "
          f"{r['spikingjelly_multi_step_over_fused']:>8.1f}x")
out = pathlib.Path("target/bench/neurons-vs-spikingjelly.json")
out.write_text(json.dumps(record, indent=1) + "\n")
print(f"wrote {out}")
PY
