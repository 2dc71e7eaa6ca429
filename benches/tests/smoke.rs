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
            let unsupported = adapter.name() == "ractor" && scenario.name == "bounded";
            assert_eq!(
                result.is_none(),
                unsupported,
                "{} / {}: only ractor's bounded row may be missing (no bounded mailbox)",
                adapter.name(),
                scenario.name
            );
        }
    }
}
