"""Writes the NIR fixture that spikeforge's importer is tested on, with the Python `nir`
package (independent of spikeforge's writer).

    python3 -m venv /tmp/nir-venv && /tmp/nir-venv/bin/pip install nir==1.0.8
    /tmp/nir-venv/bin/python scripts/make_nir_fixture.py crates/snn/tests/fixtures/nir

The graph, `input → conv → if → pool → flatten → fc → lif → output`, has every node type
the importer maps (Conv2d, IF, AvgPool2d, Flatten, Affine, LIF) with seeded weights and the
neuron parameters SpikingJelly's `export_to_nir` writes (dt = 1e-4, float64 arrays of the
full per-sample shape). The frames and the expected spikes are computed here in NumPy
(SpikingJelly's discrete IF/LIF, threshold `v >= θ`, hard reset) and saved beside it.
"""

import json
import sys
from pathlib import Path

import nir
import numpy as np

DT = 1e-4
T, N = 4, 3
C, H, W = 2, 6, 6
CO, CLASSES = 3, 4


def conv2d(x, weight, bias, padding):
    """x [N, C, H, W], weight [O, C, k, k], stride 1, zero padding."""
    n, c, h, w = x.shape
    o, _, k, _ = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = h + 2 * padding - k + 1, w + 2 * padding - k + 1
    out = np.zeros((n, o, oh, ow), dtype=np.float64)
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i : i + oh, j : j + ow]
            out += np.einsum("nchw,oc->nohw", patch, weight[:, :, i, j])
    return out + bias[None, :, None, None]


def main(out: Path):
    rng = np.random.default_rng(20)
    # Weights on a coarse dyadic grid, so that float32 sums in any order are exact and
    # the spikes do not depend on summation order.
    conv_w = (rng.integers(-8, 9, size=(CO, C, 3, 3)) / 16).astype(np.float32)
    conv_b = (rng.integers(-4, 5, size=(CO,)) / 16).astype(np.float32)
    fc_w = (rng.integers(-8, 9, size=(CLASSES, CO * 3 * 3)) / 8).astype(np.float32)
    fc_b = (rng.integers(-4, 5, size=(CLASSES,)) / 8).astype(np.float32)
    tau = 2.0
    full = lambda shape, v: np.full(shape, v)  # float64, as SpikingJelly writes them
    nodes = {
        "input": nir.Input(input_type=np.array([C, H, W])),
        "conv": nir.Conv2d(
            input_shape=(H, W),
            weight=conv_w,
            stride=1,
            padding=1,
            dilation=1,
            groups=1,
            bias=conv_b,
        ),
        "if": nir.IF(
            r=full((CO, H, W), 1 / DT),
            v_threshold=full((CO, H, W), 1.0),
            v_reset=full((CO, H, W), 0.0),
        ),
        "pool": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flatten": nir.Flatten(input_type={"input": np.array([CO, 3, 3])}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(weight=fc_w, bias=fc_b),
        "lif": nir.LIF(
            tau=full((CLASSES,), tau * DT),
            r=full((CLASSES,), 1.0),
            v_leak=full((CLASSES,), 0.0),
            v_threshold=full((CLASSES,), 0.5),
            v_reset=full((CLASSES,), 0.0),
        ),
        "output": nir.Output(output_type=np.array([CLASSES])),
    }
    edges = [
        ("input", "conv"),
        ("conv", "if"),
        ("if", "pool"),
        ("pool", "flatten"),
        ("flatten", "fc"),
        ("fc", "lif"),
        ("lif", "output"),
    ]
    graph = nir.NIRGraph(nodes=nodes, edges=edges)
    out.mkdir(parents=True, exist_ok=True)
    nir.write(out / "small.nir", graph)
    nir.read(out / "small.nir")  # the package reads its own file back

    # Binary frames and the reference forward pass (SpikingJelly's IF and LIF).
    frames = (rng.random((T, N, C, H, W)) < 0.4).astype(np.float32)
    v1 = np.zeros((N, CO, H, W))
    v2 = np.zeros((N, CLASSES))
    spikes_if, spikes_lif = [], []
    for t in range(T):
        x = conv2d(frames[t].astype(np.float64), conv_w.astype(np.float64), conv_b, 1)
        v1 = v1 + x
        s1 = (v1 >= 1.0).astype(np.float64)
        v1 = np.where(s1 > 0, 0.0, v1)
        pooled = s1.reshape(N, CO, 3, 2, 3, 2).mean(axis=(3, 5)).reshape(N, -1)
        y = pooled @ fc_w.T.astype(np.float64) + fc_b
        v2 = v2 + (y - v2) / tau
        s2 = (v2 >= 0.5).astype(np.float64)
        v2 = np.where(s2 > 0, 0.0, v2)
        spikes_if.append(s1)
        spikes_lif.append(s2)
    expected = {
        "shape": [T, N, C, H, W],
        "frames": frames.ravel().tolist(),
        "if_spikes": np.stack(spikes_if).ravel().tolist(),
        "lif_spikes": np.stack(spikes_lif).ravel().tolist(),
        "scores": np.stack(spikes_lif).mean(axis=0).ravel().tolist(),
    }
    (out / "small_expected.json").write_text(json.dumps(expected))
    print("wrote", out / "small.nir", "nir", nir.version)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "crates/snn/tests/fixtures/nir"))
