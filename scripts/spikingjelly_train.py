"""Train the seed SNN or CNN with SpikingJelly 2.0.0 / PyTorch on a spikeforge frame cache.

The anchor for `spikeforge train`: the same frames, the same split (read from the cache that
`spikeforge prepare` wrote: `<cache dir>/{train,test}.f32` + `manifest.json`), the same
network, loss, optimiser and schedule as the seed experiment defines them:

    SNN: Conv2d(2, C, 3, padding=1) -> IFNode() -> Flatten -> Linear(C*h*w, classes),
         output = mean over T of the Linear outputs (multi-step, T-first input)
    CNN: the same with ReLU, fed the mean of the T frames (`--cnn-input mean`, the default),
         their sum (`--cnn-input sum`), or applied per frame and averaged over T
         (`--cnn-input per-frame`)
    MSE against one-hot (default) or cross-entropy; SGD(lr) ; batch 32; shuffled each epoch.

Usage: python scripts/spikingjelly_train.py CACHE_DIR --model snn|cnn [--epochs 20]
       [--batch 32] [--lr 0.05] [--seed 0] [--channels 32] [--loss mse|ce]
       [--surrogate sigmoid|atan] [--cnn-input mean|sum|per-frame] [--threads 2] [--out FILE]
Prints one JSON object (per-epoch metrics, best test accuracy, time per 100 batches).
"""

import argparse
import json
import pathlib
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# spikingjelly 2.0.0 imports torchaudio from its dataset package; nothing here needs it.
sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
from spikingjelly.activation_based import functional, layer, neuron, surrogate  # noqa: E402


def load_part(cache, manifest, part):
    settings = manifest["settings"]
    t = settings["frames"]
    h, w = settings["size"]
    slots = manifest[f"{part}_slots"]
    recordings = manifest["split"][part]
    data = np.fromfile(cache / f"{part}.f32", dtype="<f4").reshape(len(slots), t, 2, h, w)
    keep = [(s, r["label"]) for s, r in zip(slots, recordings) if s is not None]
    x = torch.from_numpy(np.ascontiguousarray(data[[s for s, _ in keep]]))
    y = torch.tensor([label for _, label in keep], dtype=torch.int64)
    return x, y


class SeedSNN(nn.Module):
    def __init__(self, channels, h, w, classes, surrogate_fn):
        super().__init__()
        self.conv = layer.Conv2d(2, channels, 3, padding=1, step_mode="m")
        self.sn = neuron.IFNode(surrogate_function=surrogate_fn, step_mode="m")
        self.flat = layer.Flatten(step_mode="m")
        self.fc = layer.Linear(channels * h * w, classes, step_mode="m")

    def forward(self, x_tb):
        return self.fc(self.flat(self.sn(self.conv(x_tb)))).mean(0)


class SeedCNN(nn.Module):
    def __init__(self, channels, h, w, classes, cnn_input):
        super().__init__()
        self.conv = nn.Conv2d(2, channels, 3, padding=1)
        self.fc = nn.Linear(channels * h * w, classes)
        self.cnn_input = cnn_input

    def net(self, x):
        return self.fc(F.relu(self.conv(x)).flatten(1))

    def forward(self, x_tb):
        if self.cnn_input == "per-frame":
            return torch.stack([self.net(x) for x in x_tb]).mean(0)
        if self.cnn_input == "sum":
            return self.net(x_tb.sum(0))
        return self.net(x_tb.mean(0))


def loss_of(out, y, kind, classes):
    if kind == "mse":
        return F.mse_loss(out, F.one_hot(y, classes).float())
    return F.cross_entropy(out, y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cache", type=pathlib.Path)
    parser.add_argument("--model", choices=["snn", "cnn"], required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--loss", choices=["mse", "ce"], default="mse")
    parser.add_argument("--surrogate", choices=["sigmoid", "atan"], default="sigmoid")
    parser.add_argument("--cnn-input", choices=["mean", "sum", "per-frame"], default="mean")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    manifest = json.loads((args.cache / "manifest.json").read_text())
    classes = len(manifest["split"]["classes"])
    x_train, y_train = load_part(args.cache, manifest, "train")
    x_test, y_test = load_part(args.cache, manifest, "test")
    _, _, _, h, w = x_train.shape

    if args.model == "snn":
        fn = surrogate.Sigmoid() if args.surrogate == "sigmoid" else surrogate.ATan()
        net = SeedSNN(args.channels, h, w, classes, fn)
    else:
        net = SeedCNN(args.channels, h, w, classes, args.cnn_input)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)

    epochs, best, batches, train_seconds = [], 0.0, 0, 0.0
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(y_train), generator=generator)
        loss_sum, correct, start = 0.0, 0, time.perf_counter()
        for first in range(0, len(order), args.batch):
            index = order[first : first + args.batch]
            x, y = x_train[index].transpose(0, 1), y_train[index]
            optimizer.zero_grad()
            out = net(x)
            loss = loss_of(out, y, args.loss, classes)
            loss.backward()
            optimizer.step()
            functional.reset_net(net)
            if not torch.isfinite(loss) or loss.item() > 1e6:
                raise SystemExit(f"diverged at epoch {epoch}: loss {loss.item()}")
            loss_sum += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            batches += 1
        seconds = time.perf_counter() - start
        train_seconds += seconds
        net.eval()
        test_loss, test_correct = 0.0, 0
        with torch.no_grad():
            for first in range(0, len(y_test), args.batch):
                x = x_test[first : first + args.batch].transpose(0, 1)
                y = y_test[first : first + args.batch]
                out = net(x)
                test_loss += loss_of(out, y, args.loss, classes).item() * len(y)
                test_correct += (out.argmax(1) == y).sum().item()
                functional.reset_net(net)
        test_accuracy = test_correct / len(y_test)
        best = max(best, test_accuracy)
        epochs.append({
            "epoch": epoch + 1,
            "train_loss": loss_sum / len(y_train),
            "train_accuracy": correct / len(y_train),
            "test_loss": test_loss / len(y_test),
            "test_accuracy": test_accuracy,
            "train_seconds": seconds,
        })
        print(json.dumps(epochs[-1]), file=sys.stderr)
    record = {
        "framework": "spikingjelly",
        "cache": str(args.cache),
        "split_hash": manifest["split"]["hash"],
        "settings": vars(args) | {"cache": str(args.cache), "out": str(args.out)},
        "best_test_accuracy": best,
        "seconds_per_100_batches": 100 * train_seconds / max(batches, 1),
        "epochs": epochs,
    }
    text = json.dumps(record, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
