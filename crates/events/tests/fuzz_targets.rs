//! A short seeded run of every fuzz target (the long run: `examples/fuzz.rs`, results in
//! `docs/fuzzing.md`): no panic, every error names its file, nothing damaged is accepted.

mod fuzz;

/// Inputs per target: enough to reach every mutation kind at every field many times over,
/// in a few seconds for all targets together.
const INPUTS: u64 = 3_000;

#[test]
fn every_target_keeps_its_property_on_mutated_inputs() {
    let scratch = std::env::temp_dir().join(format!("spikeforge-fuzz-{}", std::process::id()));
    let mut failures = Vec::new();
    for target in fuzz::targets(&scratch) {
        let outcome = events::fuzz::run(&target, INPUTS, 0x5EED);
        assert_eq!(outcome.inputs, INPUTS);
        // The seeds are valid and a share of the mutations keeps them so.
        assert!(outcome.accepted > 0, "{}: nothing accepted", target.name);
        failures.extend(outcome.failures);
    }
    assert!(failures.is_empty(), "{failures:#?}");
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn the_harness_reports_panics_and_broken_properties() {
    let target = events::fuzz::Target {
        name: "broken",
        seeds: vec![vec![1, 2, 3]],
        check: Box::new(|bytes| match bytes.len() % 3 {
            0 => panic!("a reader bug"),
            1 => Err("a wrong result".to_string()),
            _ => Ok(true),
        }),
    };
    let outcome = events::fuzz::run(&target, 200, 1);
    assert!(outcome.failed > 0 && outcome.accepted > 0, "{outcome:?}");
    assert!(
        outcome
            .failures
            .iter()
            .any(|f| f.contains("panic: a reader bug"))
    );
    assert!(
        outcome
            .failures
            .iter()
            .any(|f| f.contains("a wrong result"))
    );
}
