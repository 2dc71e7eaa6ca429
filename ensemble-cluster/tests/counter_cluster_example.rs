//! The article's counter system across three processes on loopback (mutual TLS), with
//! and without a node killed mid-run.

mod common;

#[test]
fn three_processes_print_the_seeds_totals() {
    let stdout = common::run_example("counter_cluster", &["--nodes", "3"]);
    for line in [
        "Total value across all counters: 160",
        "Total operations: 200",
        "Number of counters: 4",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing {line:?} in:\n{stdout}"
        );
    }
    assert_eq!(
        stdout.lines().last(),
        Some("cluster total: 160 across 3 nodes"),
        "{stdout}"
    );
    assert!(!stdout.contains("node down:"), "{stdout}");
}

#[test]
fn a_killed_counter_node_is_reported_down_and_the_rest_finish() {
    let stdout = common::run_example("counter_cluster", &["--nodes", "3", "--kill-one"]);
    assert!(
        stdout.lines().any(|l| l == "[parent] SIGKILL node-1"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("node down: node-1")),
        "{stdout}"
    );
    // node-1 held counters 0 and 2; the survivors (1 and 3) finish their 50 operations.
    assert!(
        stdout.lines().any(|l| l == "Number of counters: 2"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l == "Total operations: 100"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("cluster total: 96 across 2 nodes"),
        "{stdout}"
    );
}

#[test]
fn help_explains_both_runs() {
    let stdout = common::run_example("counter_cluster", &["--help"]);
    assert!(
        stdout.contains("--nodes N") && stdout.contains("--kill-one"),
        "{stdout}"
    );
}
