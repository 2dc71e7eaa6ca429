//! The trading example (`examples/trading.rs`): the supervisor restarts the feed and the
//! risk manager once each, every valid order is executed, the malformed one rejected.

mod common;

#[test]
fn trading_example_restarts_each_failed_child_once_and_executes_every_valid_order() {
    let stdout = common::run_example("ensemble", "trading", &[]);
    let has = |line: &str| stdout.lines().any(|l| l == line);
    assert!(
        has("restarts: order-book=0 market-feed=1 risk-manager=1 executor=0"),
        "{stdout}"
    );
    assert!(
        has("orders: submitted=10 executed=9 rejected=1"),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("[supervisor] restart: market-feed went down")
            .count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("[supervisor] restart: risk-manager went down")
            .count(),
        1,
        "{stdout}"
    );
    assert!(
        stdout.contains("order #6 rejected: the risk manager crashed on it"),
        "{stdout}"
    );
    for n in [1, 2, 3, 4, 5, 7, 8, 9, 10] {
        assert!(
            stdout.contains(&format!("order #{n} filled")),
            "order #{n}: {stdout}"
        );
    }
}
