//! Multi-step IF and LIF layers, forward + backward, T = 8, input `[8, 32, 32, 32, 32]`
//! (the seed SNN's first layer at batch 32): the fused op against the reference composition.
//! `benches/spikingjelly_neurons.py` measures SpikingJelly's CPU op on the same workload, and
//! `benches/neurons.sh` runs both and prints the ratios.
//!
//! Run: `RAYON_NUM_THREADS=2 cargo bench -p spikeforge-snn --bench neurons`.

use std::time::Duration;

use burn::tensor::Device;
use criterion::{Criterion, criterion_group, criterion_main};
use snn::Implementation;
use snn::bench::{SEED_LAYER_SHAPE, layer_inputs, layer_training_step, seed_neurons};

// The allocator the `spikeforge` binary uses, configured the same way: it keeps freed pages
// for reuse, where glibc returns every buffer over 32 MiB to the kernel and page-faults it in
// again on next use.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static malloc_conf: &[u8; 36] = b"dirty_decay_ms:-1,muzzy_decay_ms:-1\0";

fn neurons(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    let (x, upstream) = layer_inputs(SEED_LAYER_SHAPE, &device);
    let mut group = c.benchmark_group("neuron_forward_backward_T8_32x32x32x32");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for (name, config) in seed_neurons() {
        let neuron = config.init(&device).expect("valid neuron");
        for implementation in [Implementation::Fused, Implementation::Reference] {
            group.bench_function(format!("{name}/{implementation:?}"), |b| {
                b.iter(|| layer_training_step(&neuron, &x, &upstream, implementation))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, neurons);
criterion_main!(benches);
