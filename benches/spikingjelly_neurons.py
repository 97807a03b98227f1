"""SpikingJelly 2.0.0's multi-step IFNode / LIFNode(tau=2) on PyTorch CPU: forward + backward,
T = 8, input [8, 32, 32, 32, 32], the same workload as `cargo bench --bench neurons`.

Prints one JSON object: median seconds per forward+backward for each neuron and mode
('multi_step': the registered CPU op; 'single_step': the per-step loop of the original seed code).
"""

import json
import statistics
import sys
import time

import torch
from spikingjelly.activation_based import functional, neuron

SHAPE = (8, 32, 32, 32, 32)
THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def make(name, step_mode):
    if name == "IF":
        return neuron.IFNode(step_mode=step_mode)
    return neuron.LIFNode(tau=2.0, step_mode=step_mode)


def forward_backward(node, x, upstream, step_mode):
    """Forward, the loss sum(spikes * upstream) (a dense gradient, as from the next layer),
    backward: the workload of `cargo bench --bench neurons`."""
    x = x.detach().requires_grad_(True)
    if step_mode == "m":
        out = node(x)
    else:
        out = torch.stack([node(x[t]) for t in range(x.shape[0])])
    (out * upstream).sum().backward()
    functional.reset_net(node)
    return x.grad


def median_seconds(name, step_mode, x, upstream):
    node = make(name, step_mode)
    for _ in range(2):
        forward_backward(node, x, upstream, step_mode)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        forward_backward(node, x, upstream, step_mode)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    x = torch.randn(SHAPE) * 0.5 + 0.3
    upstream = torch.randn(SHAPE)
    results = {
        "torch": torch.__version__,
        "threads": THREADS,
        "shape": list(SHAPE),
        "median_s": {},
    }
    for name in ("IF", "LIF"):
        for mode, step_mode in (("multi_step", "m"), ("single_step", "s")):
            results["median_s"][f"{name}/{mode}"] = median_seconds(
                name, step_mode, x, upstream
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
