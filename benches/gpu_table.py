"""The table of benches/gpu-device.sh: for each network, spikeforge's training step on each device
against each of SpikingJelly's on the same card and frames, as seconds per 100 batches and the
ratio anchor time / spikeforge time (above 1: spikeforge is faster). Missing measurements (a step
that failed or ran out of time) are listed, not guessed.

Usage: python3 benches/gpu_table.py results.jsonl
"""

import json
import sys


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    nets = list(dict.fromkeys(r["net"] for r in rows))
    print("| network | spikeforge on | s/100 batches | SpikingJelly 2.0.0 | s/100 batches | anchor / ours |")
    print("|---|---|---:|---|---:|---:|")
    missing = []
    for net in nets:
        ours = [r for r in rows if r["net"] == net and r["side"] == "spikeforge"]
        anchors = [r for r in rows if r["net"] == net and r["side"] == "anchor"]
        if not ours:
            missing.append(f"{net}: no spikeforge measurement")
        if not anchors:
            missing.append(f"{net}: no SpikingJelly measurement")
        for mine in ours:
            theirs = anchors or [None]
            for anchor in theirs:
                a = mine["seconds_per_100_batches"]
                if anchor is None:
                    print(f"| {net} | {mine['device']} | {a:.3f} | — | — | — |")
                    continue
                b = anchor["seconds_per_100_batches"]
                print(f"| {net} | {mine['device']} | {a:.3f} | {anchor['model']} ({anchor['device']}) "
                      f"| {b:.3f} | {b / a:.2f}× |")
    for line in missing:
        print("missing:", line)
    if not rows:
        print("missing: every measurement")


if __name__ == "__main__":
    main(sys.argv[1])
