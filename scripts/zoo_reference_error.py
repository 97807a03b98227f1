"""SpikingJelly's own float32 rounding error on the model-zoo fixtures.

For every case of crates/snn/tests/fixtures/spikingjelly_zoo, rebuilds the network in
SpikingJelly 2.0.0 from the recorded state dict, runs the same training step in float64 and
writes, per gradient and per parameter after the SGD step, the worst relative distance of
the recorded float32 values from the float64 ones (relative to max(|x64|, 0.1 max|x64|), the
measure of the zoo test); gradients that are zero up to rounding (the manifest's
grads_rounding_noise) are left out. The zoo test widens its 1e-5 tolerance by twice this error: where
SpikingJelly's float32 result is itself further than 1e-5 from the exact one, no float32
implementation can be held to 1e-5 of it.

Usage: benches/.venv/bin/python scripts/zoo_reference_error.py [--ours DIR]
(the venv: benches/setup_anchor_env.sh). Writes reference_error.json beside the fixtures.
With --ours DIR it also prints spikeforge's own distance from the float64 gradients, read
from DIR, where `ZOO_DUMP=DIR cargo test --release -p spikeforge-snn --test zoo_fixtures`
wrote them.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from spikingjelly.activation_based import functional, layer, neuron, surrogate
from spikingjelly.activation_based.model import parametric_lif_net, sew_resnet

ROOT = Path(__file__).resolve().parent.parent / "crates/snn/tests/fixtures/spikingjelly_zoo"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared/fixtures/spikingjelly_zoo"


def vggsnn():
    lif = dict(tau=2.0, v_threshold=1.0, detach_reset=True, surrogate_function=surrogate.ATan())
    features, c = [], 2
    for v in [8, 16, "P", 32, 32, "P", 64, 64, "P", 64, 64, "P"]:
        if v == "P":
            features.append(layer.AvgPool2d(2))
        else:
            features += [layer.Conv2d(c, v, 3, 1, 1, bias=True), layer.BatchNorm2d(v), neuron.LIFNode(**lif)]
            c = v

    class VGGSNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(layer.Flatten(), layer.Linear(64 * 3 * 3, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    return VGGSNN()


def mini_sew():
    kw = dict(cnf="ADD", spiking_neuron=neuron.IFNode, surrogate_function=surrogate.ATan(), detach_reset=True)

    class MiniSEW(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = layer.Conv2d(2, 8, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = layer.BatchNorm2d(8)
            self.sn1 = neuron.IFNode(surrogate_function=surrogate.ATan(), detach_reset=True)
            self.maxpool = layer.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = nn.Sequential(sew_resnet.BasicBlock(8, 8, **kw))
            down = nn.Sequential(sew_resnet.conv1x1(8, 16, 2), layer.BatchNorm2d(16))
            self.layer2 = nn.Sequential(sew_resnet.BasicBlock(8, 16, 2, down, **kw))
            self.avgpool = layer.AdaptiveAvgPool2d((1, 1))
            self.fc = layer.Linear(16, 10)

        def forward(self, x):
            x = self.maxpool(self.sn1(self.bn1(self.conv1(x))))
            x = self.avgpool(self.layer2(self.layer1(x)))
            return self.fc(torch.flatten(x, 2))

    return MiniSEW()


def network(name):
    common = dict(channels=8, surrogate_function=surrogate.ATan(), detach_reset=True)
    plif = dict(spiking_neuron=neuron.ParametricLIFNode, **common)
    lif = dict(spiking_neuron=neuron.LIFNode, tau=2.0, **common)
    return {
        "nmnist_plif": lambda: parametric_lif_net.NMNISTNet(**plif),
        "cifar10dvs_plif": lambda: parametric_lif_net.CIFAR10DVSNet(**plif),
        "cifar10dvs_lif": lambda: parametric_lif_net.CIFAR10DVSNet(**lif),
        "dvsgesture_lif": lambda: parametric_lif_net.DVSGestureNet(**lif),
        "vggsnn_cifar10dvs48": vggsnn,
        "sew_mini_add": mini_sew,
    }[name]()


def array(entry):
    for root in (ROOT, SHARED):
        if (root / entry["file"]).exists():
            return np.load(root / entry["file"])
    return None


def worst(recorded, exact):
    exact = exact.ravel()
    floor = 0.1 * np.abs(exact).max()
    scale = np.maximum(np.abs(exact), max(floor, np.finfo(np.float32).tiny))
    return float((np.abs(recorded.ravel().astype(np.float64) - exact) / scale).max())


def main():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    out = {}
    for case in manifest["cases"]:
        name = case["name"]
        net = network(name)
        for module in net.modules():
            if isinstance(module, layer.Dropout):
                module.p = 0.0
        functional.set_step_mode(net, "m")
        state = {k: torch.from_numpy(array(v)) for k, v in case["state_dict_before"].items()}
        net.load_state_dict(state)
        net = net.double()
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad()
        x = torch.from_numpy(array(case["input"])).double().requires_grad_(True)
        label = torch.from_numpy(array(case["label"]))
        functional.reset_net(net)
        loss = F.cross_entropy(net(x).mean(0), label)
        loss.backward()
        errors = {"grad_input": worst(array(case["grad_input"]), x.grad.numpy())}
        grads = {k: p.grad.numpy().copy() for k, p in net.named_parameters()}
        opt.step()
        after = {k: v.numpy() for k, v in net.state_dict().items()}
        noise = set(case["grads_rounding_noise"])  # gradients that are 0 up to rounding
        for key, exact in grads.items():
            if key in noise:
                continue
            recorded = array(case["grads"][key]) if case["grads"][key]["file"] else None
            if recorded is not None:
                errors["grad " + key] = worst(recorded, exact)
            if OURS:
                ours = np.fromfile(Path(OURS) / f"{name}.{key}.f32", dtype="<f4")
                print(f"  ours {key}: {worst(ours, exact):.2e} (SpikingJelly {errors.get('grad ' + key, float('nan')):.2e})")
        for key, entry in case["state_dict_after"].items():
            if entry.get("file") and entry["dtype"] == "float32" and key not in noise:
                errors["after " + key] = worst(array(entry), after[key])
        out[name] = errors
        print(name, "worst:", max(errors.values()))
    (ROOT / "reference_error.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


OURS = sys.argv[sys.argv.index("--ours") + 1] if "--ours" in sys.argv else None

if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
