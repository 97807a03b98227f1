"""Runs networks that spikeforge trained and exported to NIR in SpikingJelly (through its
NIR import) on the same input frames, and compares the output spikes and scores with
spikeforge's. `scripts/nir_crosscheck.sh` runs the whole check (training, export, outputs,
this script); by hand:

    spikeforge train --model seed-snn --epochs 3 --out /tmp/nir-run/seed-snn
    spikeforge export /tmp/nir-run/seed-snn --nir /tmp/nir-run/seed-snn.nir
    target/release/examples/nir_outputs /tmp/nir-run/seed-snn /tmp/nir-run/seed-snn.json 64
    /tmp/nir-venv/bin/python scripts/nir_crosscheck.py /tmp/nir-run/seed-snn.nir /tmp/nir-run/seed-snn.json

The Python side needs nir 1.0.8 and nirtorch 2.6 beside SpikingJelly 2.0.0 and torch.
`nir.read` reads each file (the Python package's own reader and type checks), SpikingJelly's
`import_from_nir(graph, dt=1e-4, step_mode="m")` builds its modules, and the frames
`[T, N, C, H, W]` run through them in one multi-step pass. The spikes of every neuron layer
(recorded with forward hooks, in call order) must equal spikeforge's bit for bit; the
graph's per-step outputs, and their mean over T (the class scores), must agree to float32
rounding (the convolutions and matmuls sum in other orders). With `--doc`, the results
replace the text between the crosscheck markers of that file. Exit status 1 when anything
differs.
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

import nir
import nirtorch
import numpy as np
import spikingjelly
import torch
from spikingjelly.activation_based import functional, neuron
from spikingjelly.activation_based.nir_exchange import import_from_nir

BEGIN = "<!-- crosscheck:begin -->"
END = "<!-- crosscheck:end -->"


def run(nir_path: Path, outputs_path: Path):
    expected = json.loads(outputs_path.read_text())
    shape = expected["shape"]
    frames = torch.tensor(expected["frames"], dtype=torch.float32).reshape(shape)
    graph = nir.read(nir_path)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    model = import_from_nir(graph, dt=1e-4, step_mode="m")
    model.eval()

    recorded = []

    def hook(_module, _inputs, output):
        # SpikingJelly wraps each imported neuron in a stateful module returning
        # (spikes, state); the neuron itself runs through `functional_forward`, which
        # forward hooks do not see.
        recorded.append(output[0].detach().clone())

    for module in model.modules():
        if hasattr(module, "module") and isinstance(module.module, neuron.BaseNode):
            module.register_forward_hook(hook)
    with torch.no_grad():
        functional.reset_net(model)
        out, _state = model(frames, None)
    steps = out.reshape(shape[0], shape[1], -1).numpy()
    scores = steps.mean(axis=0)

    t, n = shape[0], shape[1]
    layers = []
    spikes_equal = True
    for (name, ours), theirs in zip(expected["spikes"].items(), recorded):
        ours = np.asarray(ours, dtype=np.float32).reshape(t, n, -1)
        theirs = theirs.reshape(t, n, -1).numpy()
        differ = int((ours != theirs).sum())
        spikes_equal &= differ == 0 and ours.shape == theirs.shape
        layers.append(
            {
                "layer": name,
                "neurons": int(ours.shape[2]),
                "spikes": int(ours.sum()),
                "differing": differ,
            }
        )
    spikes_equal &= len(recorded) == len(expected["spikes"])
    ours_steps = np.asarray(expected["steps"], dtype=np.float32).reshape(steps.shape)
    ours_scores = np.asarray(expected["scores"], dtype=np.float32).reshape(scores.shape)
    scale = float(np.abs(ours_steps).max())
    step_diff = float(np.abs(steps - ours_steps).max())
    score_diff = float(np.abs(scores - ours_scores).max())
    same_class = int((scores.argmax(1) == ours_scores.argmax(1)).sum())
    ok = spikes_equal and step_diff <= 1e-5 * max(scale, 1.0)
    return {
        "nir_file": str(nir_path),
        "run": expected.get("run", ""),
        "nodes": kinds,
        "frames": shape,
        "layers": layers,
        "neuron_layers_spikeforge": len(expected["spikes"]),
        "neuron_layers_spikingjelly": len(recorded),
        "max_abs_diff_steps": step_diff,
        "max_abs_diff_scores": score_diff,
        "output_scale": scale,
        "same_predicted_class": f"{same_class}/{n}",
        "spikes_bit_for_bit": bool(spikes_equal),
        "ok": bool(ok),
        "versions": {
            "nir": nir.version,
            "nirtorch": getattr(nirtorch, "__version__", "2.6"),
            "spikingjelly": getattr(spikingjelly, "__version__", "2.0.0"),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }


def markdown(result) -> str:
    lines = [
        f"**`{Path(result['run']).name}`**, run on {datetime.date.today().isoformat()}: "
        f"`{Path(result['nir_file']).name}` against the spikeforge run "
        f"`{Path(result['run']).name}`, frames {result['frames']} (T, N, C, H, W), read by `nir.read` "
        f"and run by SpikingJelly's `import_from_nir` (versions: "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items())
        + ").",
        "",
        "| neuron layer | neurons | spikes (spikeforge) | differing spikes |",
        "|---|---|---|---|",
    ]
    for layer in result["layers"]:
        lines.append(
            f"| `{layer['layer']}` | {layer['neurons']} | {layer['spikes']} | {layer['differing']} |"
        )
    lines += [
        "",
        f"- spikes bit for bit: **{result['spikes_bit_for_bit']}**",
        f"- per-step outputs: max |difference| {result['max_abs_diff_steps']:.3g} "
        f"(outputs up to {result['output_scale']:.3g}); scores: "
        f"{result['max_abs_diff_scores']:.3g}; same predicted class "
        f"{result['same_predicted_class']}",
        f"- result: **{'PASS' if result['ok'] else 'FAIL'}**",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "pairs",
        nargs="+",
        type=Path,
        help="NIR file and the nir_outputs example's JSON of the same network (repeatable)",
    )
    parser.add_argument("--doc", type=Path, help="markdown file to write the results into")
    parser.add_argument("--json", type=Path, help="where to write the results as JSON")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give pairs: NIR_FILE OUTPUTS_JSON [NIR_FILE OUTPUTS_JSON ...]")
    results = [run(a, b) for a, b in zip(args.pairs[::2], args.pairs[1::2])]
    text = "\n\n".join(markdown(result) for result in results)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.doc:
        doc = args.doc.read_text()
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        args.doc.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])
    sys.exit(0 if all(result["ok"] for result in results) else 1)


if __name__ == "__main__":
    main()
