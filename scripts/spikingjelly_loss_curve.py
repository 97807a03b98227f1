"""Golden loss curve of the seed SNN in SpikingJelly 2.0.0: 30 SGD steps from a fixed
initialisation on fixed synthetic event frames, for crates/snn/tests/loss_curve.rs.

Network: Conv2d(2, 8, 3, padding=1) -> IFNode() -> Flatten -> Linear(8*16*16, 10), single-step
loop over T = 8 (the original seed code), output the mean over T; MSE against one-hot;
torch.optim.SGD(lr=0.05). Batches: 16 samples of [8, 2, 16, 16] event counts drawn from
SplitMix64 (batch b seeded with b): value = max(0, (z >> 40) % 8 - 4), i.e. 0 with
probability 5/8, else 1, 2 or 3 events; labels n % 10. The Rust test regenerates the same
frames from the same formula.

Writes init_*.npy (PyTorch layouts) and losses.json into the folder given (default: the
fixture folder). Usage: python scripts/spikingjelly_loss_curve.py [OUT_DIR]
"""

import json
import pathlib
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from spikingjelly.activation_based import functional, layer, neuron

T, B, C_IN, C, H, W, CLASSES, STEPS = 8, 16, 2, 8, 16, 16, 10, 30
MASK = (1 << 64) - 1


def splitmix_frames(seed, count):
    state, out = seed, np.empty(count, dtype=np.float32)
    for i in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        out[i] = max(0, ((z >> 40) % 8) - 4)
    return out


def batch(b):
    # [B, T, C, H, W] in memory order, transposed to time first for the net.
    x = torch.from_numpy(splitmix_frames(b, B * T * C_IN * H * W).reshape(B, T, C_IN, H, W))
    return x.transpose(0, 1), torch.arange(B) % CLASSES


class SeedSNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = layer.Conv2d(C_IN, C, 3, padding=1)
        self.sn = neuron.IFNode()
        self.flat = layer.Flatten()
        self.fc = layer.Linear(C * H * W, CLASSES)

    def forward(self, x_tb):
        return torch.stack([self.fc(self.flat(self.sn(self.conv(x)))) for x in x_tb]).mean(0)


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "crates/snn/tests/fixtures/spikingjelly_loss_curve")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net = SeedSNN()
    for name, p in net.named_parameters():
        np.save(out / f"init_{name}.npy", p.detach().numpy())
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    losses = []
    for b in range(STEPS):
        x, label = batch(b)
        optimizer.zero_grad()
        loss = F.mse_loss(net(x), F.one_hot(label, CLASSES).float())
        loss.backward()
        optimizer.step()
        functional.reset_net(net)
        losses.append(loss.item())
    (out / "losses.json").write_text(json.dumps({
        "framework": "spikingjelly 2.0.0 / torch " + torch.__version__,
        "shape": {"T": T, "B": B, "in_channels": C_IN, "channels": C, "h": H, "w": W, "classes": CLASSES},
        "steps": STEPS,
        "lr": 0.05,
        "losses": losses,
    }, indent=1) + "\n")
    print(losses)


if __name__ == "__main__":
    main()
