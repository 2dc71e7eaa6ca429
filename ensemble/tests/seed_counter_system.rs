//! The seed program (`examples/counter_system.rs`, the article's code with only the crate
//! name changed) builds and prints the expected totals.

use std::path::PathBuf;
use std::process::Command;

fn example_binary() -> PathBuf {
    // Integration tests live in target/<profile>/deps; cargo builds examples into
    // target/<profile>/examples before running tests.
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = profile_dir
        .join("examples")
        .join(format!("counter_system{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "ensemble-seed",
                "--example",
                "counter_system",
            ])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the example failed");
    }
    bin
}

#[test]
fn seed_counter_system_prints_the_expected_totals() {
    let out = Command::new(example_binary())
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
