//! A short seeded run of the checkpoint loader's fuzz targets (the long run:
//! `examples/fuzz_checkpoint.rs`, results in `docs/fuzzing.md`).

mod checkpoint_fuzz;

const INPUTS: u64 = 1_000;

#[test]
fn the_checkpoint_loader_keeps_its_properties_on_mutated_inputs() {
    let scratch = std::env::temp_dir().join(format!("spikeforge-fuzz-ckpt-{}", std::process::id()));
    let mut failures = Vec::new();
    for target in checkpoint_fuzz::targets(&scratch) {
        let outcome = events::fuzz::run(&target, INPUTS, 0x5EED);
        assert_eq!(outcome.inputs, INPUTS);
        failures.extend(outcome.failures);
    }
    assert!(failures.is_empty(), "{failures:#?}");
    std::fs::remove_dir_all(scratch).unwrap();
}
