//! The model zoo: networks by name, each a network file shipped in `examples/networks/`
//! (the files are the presets, compiled in, so a preset and its file cannot drift apart).
//!
//! | name | network |
//! |---|---|
//! | `seed-snn` | the seed experiment's SNN: conv 3×3 → IF → linear, mean over T |
//! | `seed-cnn` | the seed CNN: mean frame → conv 3×3 → ReLU → linear |
//! | `nmnist-net` | SpikingJelly's `parametric_lif_net.NMNISTNet` (Fang et al. 2021) |
//! | `cifar10dvs-net` | SpikingJelly's `parametric_lif_net.CIFAR10DVSNet` |
//! | `dvsgesture-net` | SpikingJelly's `parametric_lif_net.DVSGestureNet` |
//! | `vggsnn` | the VGGSNN of TET/NDA for CIFAR10-DVS at 48×48 (LIF) |
//! | `sew-resnet` | a small SEW-ResNet (ADD, IF): stem and two basic blocks |
//! | `shd-net` | SHD/SSC: two 3-tap 1-D convolutions (stride 2, batch norm, LIF), linear |

use crate::network::NetworkFile;

/// The presets: name and network file text.
const PRESETS: [(&str, &str); 8] = [
    (
        "seed-snn",
        include_str!("../../../../examples/networks/seed-snn.toml"),
    ),
    (
        "seed-cnn",
        include_str!("../../../../examples/networks/seed-cnn.toml"),
    ),
    (
        "nmnist-net",
        include_str!("../../../../examples/networks/nmnist-net.toml"),
    ),
    (
        "cifar10dvs-net",
        include_str!("../../../../examples/networks/cifar10dvs-net.toml"),
    ),
    (
        "dvsgesture-net",
        include_str!("../../../../examples/networks/dvsgesture-net.toml"),
    ),
    (
        "vggsnn",
        include_str!("../../../../examples/networks/vggsnn.toml"),
    ),
    (
        "sew-resnet",
        include_str!("../../../../examples/networks/sew-resnet.toml"),
    ),
    (
        "shd-net",
        include_str!("../../../../examples/networks/shd-net.toml"),
    ),
];

/// The presets' names, in the zoo's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|(name, _)| *name)
}

/// The network file text of the preset called `name`.
pub fn text(name: &str) -> Option<&'static str> {
    PRESETS
        .iter()
        .find(|(preset, _)| *preset == name)
        .map(|(_, text)| *text)
}

/// The preset called `name`.
pub fn preset(name: &str) -> Option<NetworkFile> {
    let text = text(name)?;
    Some(
        NetworkFile::parse(text, &format!("preset {name}"))
            .expect("the presets are valid network files (tested)"),
    )
}
