//! Real partitions: each node process in a network namespace of its own, cut apart with
//! nftables, one way or both, then healed. Needs root, `ip` and `nft`; prints a SKIP
//! line and passes where the machine does not allow it.

use std::io::Write;
use std::time::Duration;

use ensemble_chaos::cluster::{Cluster, Options};
use ensemble_chaos::netns::Netns;
use ensemble_chaos::protocol::{Event, Record};

/// One scenario at a time: each runs several processes on a small machine, and timing
/// (failure detection) is what they measure.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn received(r: &Record) -> bool {
    matches!(r.event, Event::Recv { .. })
}

/// A 3-node cluster in namespaces with the workload running, or `None` (SKIP printed).
fn cluster(test: &str) -> Option<Cluster> {
    if let Err(why) = Netns::create(1) {
        // Written past the test harness's capture, so that it shows in every run.
        let _ = writeln!(
            std::io::stderr(),
            "SKIP {test}: partitions need network namespaces and nftables: {why}"
        );
        return None;
    }
    let mut c = Cluster::start(Options {
        nodes: 3,
        gossip: Some(Duration::from_millis(100)),
        workers: 2,
        netns: true,
        program: env!("CARGO_BIN_EXE_chaos-node").into(),
    })
    .expect("cluster starts in namespaces");
    c.broadcast("workload 200").unwrap();
    c.wait_more(300, Duration::from_secs(20), received).unwrap();
    Some(c)
}

#[test]
fn a_two_way_partition_splits_the_cluster_and_the_minority_rejoins_after_the_heal() {
    let _serial = serial();
    let Some(mut c) = cluster("two-way partition") else {
        return;
    };
    c.partition(&[2], &[0, 1], false).unwrap();
    let split = c.converged(&[0, 1], Duration::from_secs(30)).unwrap();
    let alone = c.converged(&[2], Duration::from_secs(30)).unwrap();
    println!("split seen in {split:?} (majority) and {alone:?} (minority)");
    c.heal().unwrap();
    let back = c.converged(&[0, 1, 2], Duration::from_secs(30)).unwrap();
    println!("re-converged {back:?} after the heal");
    let rejoined: Vec<String> = c
        .records()
        .iter()
        .filter(|(_, r)| matches!(r.event, Event::Rejoined { .. }))
        .map(|(_, r)| r.node.clone())
        .collect();
    assert_eq!(rejoined, ["node-3"], "only the minority rejoins");
    c.wait_more(200, Duration::from_secs(20), received).unwrap();
    let report = c.finish(Duration::from_secs(10)).unwrap();
    println!("{report}");
    assert!(report.ok(), "{report}");
}

#[test]
fn a_one_way_partition_is_a_loss_for_the_side_that_hears_nothing_and_heals() {
    let _serial = serial();
    let Some(mut c) = cluster("one-way partition") else {
        return;
    };
    // node-3 can hear the others but they cannot hear it.
    c.partition(&[2], &[0, 1], true).unwrap();
    let split = c.converged(&[0, 1], Duration::from_secs(30)).unwrap();
    println!("node-3 declared down {split:?} after the cut");
    c.heal().unwrap();
    let back = c.converged(&[0, 1, 2], Duration::from_secs(30)).unwrap();
    println!("re-converged {back:?} after the heal");
    c.wait_more(200, Duration::from_secs(20), received).unwrap();
    let report = c.finish(Duration::from_secs(10)).unwrap();
    println!("{report}");
    assert!(report.ok(), "{report}");
}
