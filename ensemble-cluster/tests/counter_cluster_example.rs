//! The article's counter system across three processes on loopback (mutual TLS), with
//! and without a node killed mid-run (its counters restarted elsewhere by their
//! supervisor).

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
fn a_killed_counter_nodes_counters_restart_elsewhere_and_the_losses_add_up() {
    let stdout = common::run_example("counter_cluster", &["--nodes", "3", "--kill-one"]);
    let has = |p: &dyn Fn(&str) -> bool| stdout.lines().any(p);
    assert!(has(&|l| l == "[parent] SIGKILL node-1"), "{stdout}");
    assert!(has(&|l| l.starts_with("node down: node-1")), "{stdout}");
    // node-1 held counters 0 and 2: both run again, elsewhere, and all four finish.
    for c in ["counter-0", "counter-2"] {
        let moved = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("[clients] {c} now runs on ")))
            .unwrap_or_else(|| panic!("{c} not restarted:\n{stdout}"));
        assert!(moved == "node-2" || moved == "node-3", "{moved}\n{stdout}");
        assert!(
            has(&|l| l.contains(&format!("[{c}] Counter restarting from its last report"))),
            "{stdout}"
        );
    }
    assert!(has(&|l| l == "Number of counters: 4"), "{stdout}");
    // What was lost since the last reports, plus what the counters hold, is what the
    // clients sent: 200 operations, a total of 160.
    let (mut lost_ops, mut lost_value) = (0u64, 0i64);
    for l in stdout.lines().filter(|l| l.starts_with("lost: ")) {
        let words: Vec<&str> = l.split_whitespace().collect();
        lost_ops += words[2].parse::<u64>().unwrap();
        lost_value += words[5].trim_end_matches(')').parse::<i64>().unwrap();
    }
    let field = |prefix: &str| -> i64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?}:\n{stdout}"))
            .parse()
            .unwrap()
    };
    let total = field("Total value across all counters: ");
    assert_eq!(
        field("Total operations: ") + lost_ops as i64,
        200,
        "{stdout}"
    );
    assert_eq!(total + lost_value, 160, "{stdout}");
    assert_eq!(
        stdout.lines().last().map(str::to_string),
        Some(format!("cluster total: {total} across 2 nodes")),
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
