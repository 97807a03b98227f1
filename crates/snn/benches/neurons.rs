//! Multi-step IF and LIF layers, forward + backward, T = 8, input `[8, 32, 32, 32, 32]`
//! (the seed SNN's first layer at batch 32): the fused op against the reference composition.
//! `benches/spikingjelly_neurons.py` measures SpikingJelly's CPU op on the same workload, and
//! `benches/neurons.sh` runs both and prints the ratios.
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p spikeforge-snn --bench neurons`.

use std::time::Duration;

use burn::tensor::{Device, Distribution, Tensor};
use criterion::{Criterion, criterion_group, criterion_main};
use snn::{Implementation, NeuronConfig, SpikingNeuron};

// The allocator the `spikeforge` binary uses, configured the same way: it keeps freed pages
// for reuse, where glibc returns every buffer over 32 MiB to the kernel and page-faults it in
// again on next use.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static malloc_conf: &[u8; 36] = b"dirty_decay_ms:-1,muzzy_decay_ms:-1\0";

const SHAPE: [usize; 5] = [8, 32, 32, 32, 32];

/// One training-like step of a neuron layer: forward, the loss `Σ spikes · upstream` (so
/// that a dense gradient arrives, as from the next layer), backward. Returns the input
/// gradient's first value so that nothing is optimised away.
fn forward_backward(
    neuron: &SpikingNeuron,
    x: &Tensor<5>,
    upstream: &Tensor<5>,
    implementation: Implementation,
) -> f32 {
    let x = x.clone().require_grad();
    let spikes = neuron
        .forward_with(x.clone(), implementation)
        .expect("valid neuron");
    let grads = (spikes * upstream.clone()).sum().backward();
    let grad = x.grad(&grads).expect("x is tracked");
    grad.narrow(0, 0, 1)
        .into_data()
        .iter::<f32>()
        .next()
        .unwrap_or(0.0)
}

fn neurons(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    device.seed(0);
    // Inputs of the size a conv layer feeds an IF layer; about a fifth of the neurons fire.
    let x = Tensor::<5>::random(SHAPE, Distribution::Normal(0.3, 0.5), &device).detach();
    let upstream = Tensor::<5>::random(SHAPE, Distribution::Normal(0.0, 1.0), &device).detach();
    let mut group = c.benchmark_group("neuron_forward_backward_T8_32x32x32x32");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for (name, config) in [
        ("IF", NeuronConfig::if_node()),
        ("LIF", NeuronConfig::lif(2.0)),
    ] {
        let neuron = config.init(&device).expect("valid neuron");
        for implementation in [Implementation::Fused, Implementation::Reference] {
            group.bench_function(format!("{name}/{implementation:?}"), |b| {
                b.iter(|| forward_backward(&neuron, &x, &upstream, implementation))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, neurons);
criterion_main!(benches);
