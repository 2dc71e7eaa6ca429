//! The seed program (`examples/counter_system.rs`, the article's code with only the crate
//! name changed) builds and prints the expected totals.

mod common;

use std::process::Command;

#[test]
fn seed_counter_system_prints_the_expected_totals() {
    let out = Command::new(common::example_binary("ensemble-seed", "counter_system"))
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
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
