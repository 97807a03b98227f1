"""Training steps of the seed SNN and CNN in SpikingJelly 2.0.0 / PyTorch, at the seed experiment's
shapes: the anchor of `spikeforge bench seed`. On the CPU by default; with DEVICE=cuda on the
first NVIDIA GPU, where SpikingJelly's multi-step IF runs its CUDA provider (Triton/CuPy),
each step is timed to a device synchronisation and the peak is the device memory allocated.

Batch [B=32, T=8, 2, 32, 32] of frames uniform in [0, 1), transposed time-first; labels
i mod 10; MSE against one-hot; SGD lr 0.05. Networks (as the seed experiment defines them):
  SNN single-step: Conv2d(2,32,3,p=1) -> IFNode() -> Flatten -> Linear(32768,10), looped over T
                   (the original seed code), output the mean over T;
  SNN multi-step:  the same in multi-step mode (SpikingJelly's fastest CPU path);
  CNN:             Conv2d -> ReLU -> Flatten -> Linear on the mean of the T frames;
  Deep SNN:        [Conv2d(3x3, p=1, no bias) -> BatchNorm2d -> IFNode() -> MaxPool2d(2)] x 3 with
                   64/128/128 channels -> Flatten -> Linear(2048, 10), output the mean over T,
                   multi-step (BatchNorm over all T*N frames) or single-step (looped over T).
  CIFAR10DVSNet:   SpikingJelly's parametric_lif_net.CIFAR10DVSNet(channels=128, ParametricLIFNode,
                   ATan, detach_reset) at 128x128 (Fang et al. 2021), output voted and averaged over T;
  VGGSNN:          TET's VGGSNN at 48x48 (conv3x3 -> BN -> LIFNode(tau=2, ATan, detach_reset) blocks of
                   64,128,P,256,256,P,512,512,P,512,512,P with P = AvgPool2d(2), then Linear(4608, 10)).
Every SNN in multi-step mode (model name ending -multi) or single-step, looped over T (-single).
SHAPE=T,B,C,H,W sets the batch (default 8,32,2,32,32; the zoo nets need their own H, W);
FRAMES=file reads it (f32 little-endian, time-first [T, B, C, H, W], as `spikeforge bench seed
--save-batch` writes it) instead of drawing it uniform in [0, 1). FLUSH_DENORMAL=1 sets
torch.set_flush_denormal(True) (PyTorch does not flush by default).
Prints one JSON object: median seconds per step, samples/s and peak RSS for each.
Usage: python benches/spikingjelly_seed.py MODEL [threads=2] [batches=30] [warmup=3]
with MODEL one of snn-single, snn-multi, cnn, deep-single, deep-multi, cifar10dvs-single,
cifar10dvs-multi, vggsnn-single, vggsnn-multi (one per process, so that the peak memory is that
network's own).
"""

import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from spikingjelly.activation_based import functional, layer, neuron, surrogate
from spikingjelly.activation_based.model import parametric_lif_net

MODEL = sys.argv[1]
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
BATCHES = int(sys.argv[3]) if len(sys.argv) > 3 else 30
WARMUP = int(sys.argv[4]) if len(sys.argv) > 4 else 3
DEVICE = torch.device(os.environ.get("DEVICE", "cpu"))
T, B, IN, H, W = (int(v) for v in os.environ.get("SHAPE", "8,32,2,32,32").split(","))
C, CLASSES = 32, 10
FRAMES = os.environ.get("FRAMES")


def synchronize():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


class SeedSNN(nn.Module):
    def __init__(self, step_mode):
        super().__init__()
        self.step_mode = step_mode
        self.conv = layer.Conv2d(2, C, 3, padding=1, step_mode=step_mode)
        self.sn = neuron.IFNode(step_mode=step_mode)
        self.flat = layer.Flatten(step_mode=step_mode)
        self.fc = layer.Linear(C * H * W, CLASSES, step_mode=step_mode)

    def forward(self, x_tb):
        if self.step_mode == "m":
            return self.fc(self.flat(self.sn(self.conv(x_tb)))).mean(0)
        return torch.stack([self.fc(self.flat(self.sn(self.conv(x)))) for x in x_tb]).mean(0)


class SeedCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, C, 3, padding=1)
        self.fc = nn.Linear(C * H * W, CLASSES)

    def forward(self, x_tb):
        return self.fc(F.relu(self.conv(x_tb.mean(0))).flatten(1))


class DeepSNN(nn.Module):
    def __init__(self, step_mode, channels=(64, 128, 128)):
        super().__init__()
        self.step_mode = step_mode
        blocks, c_in = [], 2
        for c_out in channels:
            blocks += [
                layer.Conv2d(c_in, c_out, 3, padding=1, bias=False, step_mode=step_mode),
                layer.BatchNorm2d(c_out, step_mode=step_mode),
                neuron.IFNode(step_mode=step_mode),
                layer.MaxPool2d(2, 2, step_mode=step_mode),
            ]
            c_in = c_out
        scale = 2 ** len(channels)
        blocks += [
            layer.Flatten(step_mode=step_mode),
            layer.Linear(c_in * (H // scale) * (W // scale), CLASSES, step_mode=step_mode),
        ]
        self.net = nn.Sequential(*blocks)

    def forward(self, x_tb):
        if self.step_mode == "m":
            return self.net(x_tb).mean(0)
        return torch.stack([self.net(x) for x in x_tb]).mean(0)


class StepLoop(nn.Module):
    """A network run in single-step mode over T (step_mode "s"), or in multi-step mode on the
    whole sequence; the output averaged over T."""

    def __init__(self, net, step_mode):
        super().__init__()
        functional.set_step_mode(net, step_mode)
        self.net, self.step_mode = net, step_mode

    def forward(self, x_tb):
        if self.step_mode == "m":
            return self.net(x_tb).mean(0)
        return torch.stack([self.net(x) for x in x_tb]).mean(0)


def cifar10dvs_net():
    return parametric_lif_net.CIFAR10DVSNet(
        channels=128,
        spiking_neuron=neuron.ParametricLIFNode,
        surrogate_function=surrogate.ATan(),
        detach_reset=True,
    )


def vggsnn():
    blocks, c_in = [], IN
    for v in (64, 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P"):
        if v == "P":
            blocks.append(layer.AvgPool2d(2))
            continue
        blocks += [
            layer.Conv2d(c_in, v, kernel_size=3, stride=1, padding=1),
            layer.BatchNorm2d(v),
            neuron.LIFNode(tau=2.0, detach_reset=True, surrogate_function=surrogate.ATan()),
        ]
        c_in = v
    blocks += [layer.Flatten(), layer.Linear(c_in * (H // 16) * (W // 16), CLASSES)]
    return nn.Sequential(*blocks)


def batch():
    if FRAMES:
        values = torch.from_numpy(__import__("numpy").fromfile(FRAMES, dtype="<f4"))
        return values.reshape(T, B, IN, H, W).clone()
    return torch.rand(B, T, IN, H, W).transpose(0, 1)


def resident_mib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(name, make):
    before = resident_mib("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    torch.manual_seed(0)
    net = make().to(DEVICE)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    x = batch().to(DEVICE)
    target = F.one_hot(torch.arange(B) % CLASSES, CLASSES).float().to(DEVICE)
    if DEVICE.type == "cuda":
        torch.cuda.reset_peak_memory_stats(DEVICE)
    times = []
    for step in range(WARMUP + BATCHES):
        synchronize()
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = F.mse_loss(net(x), target)
        loss.backward()
        optimizer.step()
        functional.reset_net(net)
        synchronize()
        if step >= WARMUP:
            times.append(time.perf_counter() - start)
    peak = resident_mib("VmHWM")
    median = statistics.median(times)
    device_peak = {}
    if DEVICE.type == "cuda":
        device_peak = {"peak_device_mib": torch.cuda.max_memory_allocated(DEVICE) / 2**20}
    return device_peak | {
        "model": name,
        "seconds_per_100_batches": 100 * median,
        "samples_per_second": B / median,
        "median_step_ms": 1e3 * median,
        "min_step_ms": 1e3 * min(times),
        "peak_rss_mib": peak,
        "peak_rss_increase_mib": peak - before,
    }


def main():
    torch.set_num_threads(THREADS)
    nets = {
        "snn-single": ("SNN single-step", lambda: SeedSNN("s")),
        "snn-multi": ("SNN multi-step", lambda: SeedSNN("m")),
        "cnn": ("CNN", SeedCNN),
        "deep-single": ("DeepSNN single-step", lambda: DeepSNN("s")),
        "deep-multi": ("DeepSNN multi-step", lambda: DeepSNN("m")),
        "cifar10dvs-single": ("cifar10dvs-net single-step", lambda: StepLoop(cifar10dvs_net(), "s")),
        "cifar10dvs-multi": ("cifar10dvs-net multi-step", lambda: StepLoop(cifar10dvs_net(), "m")),
        "vggsnn-single": ("vggsnn single-step", lambda: StepLoop(vggsnn(), "s")),
        "vggsnn-multi": ("vggsnn multi-step", lambda: StepLoop(vggsnn(), "m")),
    }
    if os.environ.get("FLUSH_DENORMAL") == "1":
        torch.set_flush_denormal(True)
    result = measure(*nets[MODEL])
    result |= {
        "framework": "spikingjelly 2.0.0 / torch " + torch.__version__,
        "device": torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else "cpu",
        "threads": THREADS,
        "flush_denormal": os.environ.get("FLUSH_DENORMAL") == "1",
        "batch_shape": [T, B, IN, H, W],
        "batches": BATCHES,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
