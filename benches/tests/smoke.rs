//! Every scenario, for every implementation, at 1% of its size: each adapter asserts its
//! own result (counter totals, reply values, the ring's last hop), so a broken adapter
//! fails here. No timing is checked.

use ensemble_benches::adapters;
use ensemble_benches::scenarios;

#[test]
fn every_adapter_runs_every_scenario_correctly_at_one_percent() {
    let idle = |a: &dyn adapters::Adapter, n: u64| a.idle_bytes(n.min(1_000));
    for scenario in scenarios::ALL {
        for adapter in adapters::all() {
            let result = scenarios::run(*scenario, adapter, 0.01, &idle);
            // ractor has no bounded mailbox; ractor and kameo have no placement on one thread.
            let unsupported = matches!(
                (adapter.name(), scenario.name),
                (
                    "ractor",
                    "bounded" | "bounded-task" | "bounded-pinned" | "ring-pinned"
                ) | ("kameo", "ring-pinned" | "bounded-pinned")
            );
            assert_eq!(
                result.is_none(),
                unsupported,
                "{} / {}: only the rows an implementation has no feature for may be missing",
                adapter.name(),
                scenario.name
            );
        }
    }
}

/// The command itself, as a user runs it: one scenario at 1%, each sample in a child
/// process, every implementation in the printed table.
#[test]
fn the_command_prints_a_row_per_implementation_from_child_processes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ensemble-benches"))
        .args(["ring-ct", "--quick"])
        .output()
        .expect("running ensemble-benches");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    for name in ["tokio", "ensemble", "ractor", "kameo", "actix"] {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("| ring-ct |") && l.contains(&format!("| {name} |"))),
            "no ring-ct row for {name} in:\n{table}"
        );
    }
}
