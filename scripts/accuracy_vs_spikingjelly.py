"""Best test accuracy of spikeforge and SpikingJelly 2.0.0 on the same frames and split,
over several seeds: the accuracy evidence of the seed experiment.

For each seed it runs `spikeforge train` (which prepares or reuses the frame cache), reads
the cache folder from its `run.json`, trains the same network with SpikingJelly on that
cache (scripts/spikingjelly_train.py), and prints both best test accuracies and their means.
A run that diverges is reported as such (spikeforge stops it; SpikingJelly trains on).

Usage (from the repository root, with the anchor venv of benches/setup_anchor_env.sh):
  python scripts/accuracy_vs_spikingjelly.py --model snn --seeds 0 1 2 [--out DIR] \\
      -- --dataset nmnist --root NMNIST_SMALL --size 34
with NMNIST_SMALL a folder in the small N-MNIST subset layout (SLAYER's NMNISTsmall).
Everything after `--` goes to `spikeforge train`; --epochs, --batch, --lr, --channels, --loss,
--surrogate and --cnn-input are passed on to SpikingJelly as well.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

SHARED = ("--epochs", "--batch", "--lr", "--channels", "--loss", "--surrogate", "--cnn-input")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["snn", "cnn"], required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("target/accuracy"))
    parser.add_argument("--spikeforge", default="target/release/spikeforge")
    parser.add_argument("train_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    train_args = [a for a in args.train_args if a != "--"]
    shared = []
    for flag in SHARED:
        if flag in train_args:
            shared += [flag, train_args[train_args.index(flag) + 1]]

    rows = []
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), RUST_BACKTRACE="0")
    for seed in args.seeds:
        out = args.out / f"{args.model}-seed{seed}"
        ours = subprocess.run(
            [args.spikeforge, "train", "--model", args.model, "--seed", str(seed), "--out", str(out)]
            + train_args, env=env, capture_output=True, text=True)
        record = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else None
        if record is None:
            sys.exit(f"spikeforge train failed before writing a record:\n{ours.stderr}")
        ours_best = record["best_test_accuracy"] if ours.returncode == 0 else None
        sj_out = args.out / f"{args.model}-seed{seed}-spikingjelly.json"
        subprocess.run(
            [sys.executable, "scripts/spikingjelly_train.py", record["dataset"]["location"],
             "--model", args.model, "--seed", str(seed), "--threads", str(args.threads),
             "--out", str(sj_out)] + shared, check=True, capture_output=True)
        theirs = json.loads(sj_out.read_text())
        rows.append((seed, ours_best, theirs["best_test_accuracy"]))
        shown = "diverged (stopped)" if ours_best is None else f"{100 * ours_best:.1f} %"
        print(f"seed {seed}: spikeforge {shown}, SpikingJelly {100 * theirs['best_test_accuracy']:.1f} %",
              flush=True)
    finished = [r for r in rows if r[1] is not None]
    if finished:
        ours_mean = statistics.mean(r[1] for r in finished)
        theirs_mean = statistics.mean(r[2] for r in finished)
        print(f"mean over {len(finished)} seeds: spikeforge {100 * ours_mean:.1f} %, "
              f"SpikingJelly {100 * theirs_mean:.1f} %, difference {100 * (ours_mean - theirs_mean):+.1f} points")


if __name__ == "__main__":
    main()
