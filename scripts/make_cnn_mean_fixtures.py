"""Golden data of the seed CNN fed the mean of its T frames (`--cnn-input mean`, the default),
computed by PyTorch, for crates/snn/tests/seednet_fixtures.rs.

The same inputs as the SpikingJelly `seed_cnn` fixtures (crates/snn/tests/fixtures/spikingjelly/
seednet: a [B=2, T=8, 2, 8, 8] Poisson input, labels (3, 7), PyTorch's initial parameters of
Conv2d(2, 4, 3, padding=1) and Linear(256, 10)), copied beside the results. For MSE against the
one-hot labels and for cross-entropy: the output `net(x_TB.mean(0))` of
Conv2d → ReLU → Flatten → Linear, the loss, the gradients of all four parameters and the
parameters after one `torch.optim.SGD(lr=0.05)` step. Written as .npy files with a manifest
in the schema of the SpikingJelly fixtures.

Run with the anchor environment:
`$(benches/setup_anchor_env.sh) scripts/make_cnn_mean_fixtures.py [OUT_DIR]`.
"""

import json
import pathlib
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1] / "crates/snn/tests/fixtures"
SOURCE = ROOT / "spikingjelly/seednet"
PARAMS = ["conv.weight", "conv.bias", "fc.weight", "fc.bias"]


class SeedCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x_tb):
        frame = x_tb.mean(0)
        return self.fc(F.relu(self.conv(frame)).flatten(1))


def entry(out, name, array):
    np.save(out / name, array)
    return {"file": name, "dtype": str(array.dtype), "shape": list(array.shape)}


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "pytorch_cnn_mean"
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    inputs = {}
    for name in ["x_BT.npy", "label.npy"] + [f"init_{p}.npy" for p in PARAMS]:
        shutil.copyfile(SOURCE / name, out / name)
        inputs[name] = np.load(out / name)
    x_tb = torch.from_numpy(inputs["x_BT.npy"]).transpose(0, 1)
    label = torch.from_numpy(inputs["label.npy"])
    cases = []
    for loss_name, loss_rule in [
        ("mse", "F.mse_loss(out, one_hot)"),
        ("ce", "F.cross_entropy(out, label)"),
    ]:
        net = SeedCNN()
        with torch.no_grad():
            for p, param in zip(PARAMS, net.parameters()):
                param.copy_(torch.from_numpy(inputs[f"init_{p}.npy"]))
        optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
        scores = net(x_tb)
        if loss_name == "mse":
            loss = F.mse_loss(scores, F.one_hot(label, 10).float())
        else:
            loss = F.cross_entropy(scores, label)
        optimizer.zero_grad()
        loss.backward()
        name = f"cnn_meanT_{loss_name}"
        grads = {p: entry(out, f"{name}_grad_{p}.npy", param.grad.numpy().copy())
                 for p, param in zip(PARAMS, net.parameters())}
        optimizer.step()
        after = {p: entry(out, f"{name}_after_{p}.npy", param.detach().numpy().copy())
                 for p, param in zip(PARAMS, net.parameters())}
        cases.append({
            "kind": "seed_cnn_mean",
            "name": name,
            "arch": "Conv2d(2,4,3,padding=1,bias) -> ReLU -> Flatten -> Linear(256,10)",
            "input_rule": "net(x_TB.mean(0))",
            "loss": loss_rule,
            "optimizer": "torch.optim.SGD(lr=0.05), one step",
            "x_BT": {"file": "x_BT.npy", "dtype": "float32", "shape": list(inputs["x_BT.npy"].shape)},
            "label": {"file": "label.npy", "dtype": "int64", "shape": list(inputs["label.npy"].shape)},
            "init": {p: {"file": f"init_{p}.npy", "dtype": "float32",
                         "shape": list(inputs[f"init_{p}.npy"].shape)} for p in PARAMS},
            "out": entry(out, f"{name}_out.npy", scores.detach().numpy().copy()),
            "loss_value": loss.item(),
            "grads": grads,
            "params_after_step": after,
        })
    manifest = {
        "generator": "scripts/make_cnn_mean_fixtures.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "format": "numpy .npy v1, little-endian; dtypes float32 / int64; paths relative to this file",
        "cases": cases,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
