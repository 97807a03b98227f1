"""The main job (`spikeforge compare`, seed settings, built-in dataset) over several seeds: the
table of best test accuracy per network (mean ± standard deviation), the train–test gap at the
best epoch, the CNN's hidden-layer activity, and the wall time of each run, checked against
the targets the built-in dataset is designed for:

- each network's best test accuracy ≥ 60 % on every seed;
- train − test accuracy at the best epoch ≤ 15 points;
- the CNN's ReLU non-zero share at the best epoch ≥ 5 %;
- standard deviation of best test accuracy over the seeds ≤ 3 points per network;
- the first run, which generates the dataset in a fresh cache, ≤ 180 s.

Usage: python3 scripts/default_dataset_seeds.py [--binary target/release/spikeforge]
           [--seeds 0 1 2 3 4] [--out runs/seeds] [--json FILE]
Exits 1 when a target is missed. Standard library only.
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def cpu_model():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="target/release/spikeforge")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", default="runs/seeds")
    parser.add_argument("--json", help="also write the table as JSON here")
    args = parser.parse_args()

    cache = tempfile.mkdtemp(prefix="spikeforge-seeds-cache-")
    rows, walls = [], []
    for seed in args.seeds:
        out = pathlib.Path(args.out) / f"seed{seed}"
        command = [args.binary, "compare", "--seed", str(seed), "--out", str(out),
                   "--cache", cache]
        if (out / "compare.json").exists():
            sys.exit(f"{out} already holds a comparison: remove it or choose another --out")
        start = time.monotonic()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.monotonic() - start)
        comparison = json.loads((out / "compare.json").read_text())
        row = {"seed": seed, "wall_s": walls[-1]}
        for net in ("snn", "cnn"):
            record = comparison[net]
            if record is None:
                sys.exit(f"seed {seed}: the {net.upper()} diverged: {comparison[net + '_error']}")
            best = next(e for e in record["epochs"] if e["epoch"] == record["best_epoch"])
            row[net] = {
                "best_test_accuracy": 100 * record["best_test_accuracy"],
                "best_epoch": record["best_epoch"],
                "train_accuracy_at_best": 100 * best["train_accuracy"],
                "gap_points": 100 * (best["train_accuracy"] - best["test"]["accuracy"]),
                "hidden_activity": best["test"]["hidden_activity"],
            }
        rows.append(row)
        print(f"seed {seed}: SNN {row['snn']['best_test_accuracy']:.2f} %, "
              f"CNN {row['cnn']['best_test_accuracy']:.2f} %, {walls[-1]:.0f} s", flush=True)

    print(f"\n{len(rows)} seeds, {cpu_model()}, {os.cpu_count()} cores; "
          f"first run (dataset generated in a fresh cache) {walls[0]:.0f} s, "
          f"later runs {statistics.median(walls[1:] or walls):.0f} s (median)\n")
    print("| network | best test accuracy per seed (%) | mean ± std (%) | train − test at best "
          "epoch (points, max) | hidden layer at best epoch (min) |")
    print("|---|---|---|---|---|")
    failures, summary = [], {}
    for net, activity in (("snn", "firing rate"), ("cnn", "ReLU non-zero share")):
        best = [r[net]["best_test_accuracy"] for r in rows]
        gaps = [r[net]["gap_points"] for r in rows]
        active = [r[net]["hidden_activity"] for r in rows]
        mean, std = statistics.mean(best), statistics.stdev(best) if len(best) > 1 else 0.0
        summary[net] = {"mean": mean, "std": std, "max_gap": max(gaps), "min_activity": min(active)}
        print(f"| {net.upper()} | {', '.join(f'{b:.1f}' for b in best)} | {mean:.1f} ± {std:.1f} "
              f"| {max(gaps):.1f} | {activity} {min(active):.3f} |")
        if min(best) < 60:
            failures.append(f"{net.upper()} best test accuracy {min(best):.1f} % < 60 %")
        if max(gaps) > 15:
            failures.append(f"{net.upper()} train-test gap {max(gaps):.1f} points > 15")
        if std > 3:
            failures.append(f"{net.upper()} standard deviation {std:.1f} points > 3")
        if net == "cnn" and min(active) < 0.05:
            failures.append(f"CNN non-zero share {min(active):.3f} < 0.05")
    if walls[0] > 180:
        failures.append(f"the first main job took {walls[0]:.0f} s > 180 s")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {"cpu": cpu_model(), "rows": rows, "summary": summary, "failures": failures},
            indent=1) + "\n")
    for failure in failures:
        print(f"MISSED: {failure}")
    print("all targets met" if not failures else f"{len(failures)} target(s) missed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
