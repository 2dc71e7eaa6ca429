//! The seed program (`examples/counter_system.rs`, the article's code with only the crate
//! name changed) builds and prints the expected totals.

mod common;

#[test]
fn seed_counter_system_prints_the_expected_totals() {
    let stdout = common::run_example("ensemble-seed", "counter_system", &[]);
    for line in [
        "Starting distributed counter system",
        "[Aggregator] Starting",
        "[counter-0] Counter starting",
        "[counter-3] Counter starting",
        "[Aggregator] Registered counter",
        "=== Final System Statistics ===",
        "Total value across all counters: 160",
        "Total operations: 200",
        "Number of counters: 4",
        "[counter-2] Counter stopping with final value 48 after 50 operations",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing line {line:?} in:\n{stdout}"
        );
    }
    assert!(stdout.contains("Average ops/second per counter: "));
    assert_eq!(stdout.matches("Registered counter").count(), 4);
}
