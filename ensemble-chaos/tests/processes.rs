//! Loopback multi-process scenarios: real node processes, killed, hung and leaving, with
//! the history checked after each. (Partitions need network namespaces: see
//! `partitions.rs`.)

use std::time::Duration;

use ensemble_chaos::cluster::{Cluster, Options};
use ensemble_chaos::protocol::{Event, Record};

fn options(nodes: usize) -> Options {
    Options {
        nodes,
        gossip: Some(Duration::from_millis(100)),
        workers: 2,
        netns: false,
        program: env!("CARGO_BIN_EXE_chaos-node").into(),
    }
}

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

/// Starts a cluster with the workload running and messages flowing everywhere.
fn running(nodes: usize) -> Cluster {
    let mut c = Cluster::start(options(nodes)).expect("cluster starts");
    c.broadcast("workload 200").unwrap();
    c.wait_more(300, Duration::from_secs(20), received).unwrap();
    c
}

#[test]
fn a_sigkilled_node_fires_every_monitor_once_and_the_rest_converge() {
    let _serial = serial();
    let mut c = running(3);
    c.kill(2).unwrap();
    let took = c.converged(&[0, 1], Duration::from_secs(20)).unwrap();
    c.wait_more(200, Duration::from_secs(20), received).unwrap();
    let report = c.finish(Duration::from_secs(10)).unwrap();
    println!("converged {took:?} after the kill\n{report}");
    assert!(report.ok(), "{report}");
    assert!(report.fired >= 4, "{report}"); // 2 watchers x 2 workers on node-3
}

#[test]
fn a_hung_node_is_declared_down_and_rejoins_as_a_new_incarnation_when_it_wakes() {
    let _serial = serial();
    let mut c = running(3);
    c.stop(2).unwrap();
    let took = c.converged(&[0, 1], Duration::from_secs(30)).unwrap();
    println!("declared down {took:?} after SIGSTOP");
    c.cont(2).unwrap();
    // It learns it was declared down, rejoins as a new incarnation, and all three see
    // each other again.
    let back = c.converged(&[0, 1, 2], Duration::from_secs(30)).unwrap();
    println!("re-converged {back:?} after SIGCONT");
    let rejoined = c
        .records()
        .iter()
        .any(|(_, r)| r.node == "node-3" && matches!(r.event, Event::Rejoined { .. }));
    assert!(rejoined, "node-3 never rejoined");
    c.wait_more(200, Duration::from_secs(20), received).unwrap();
    let report = c.finish(Duration::from_secs(10)).unwrap();
    println!("{report}");
    if !report.ok() {
        for (_, r) in c.records() {
            if matches!(
                r.event,
                Event::Up { .. }
                    | Event::Down { .. }
                    | Event::Rejoined { .. }
                    | Event::Injected { .. }
                    | Event::Healed
            ) {
                println!("{} {} {} {:?}", r.t / 1000, r.node, r.inc, r.event);
            }
        }
    }
    assert!(report.ok(), "{report}");
}

#[test]
fn a_node_that_leaves_is_down_at_once_and_a_restarted_one_is_a_new_member() {
    let _serial = serial();
    let mut c = running(3);
    c.leave(2).unwrap();
    let took = c.converged(&[0, 1], Duration::from_secs(10)).unwrap();
    println!("converged {took:?} after the leave");
    c.restart(2).unwrap();
    c.send(2, "workload 200").unwrap();
    let back = c.converged(&[0, 1, 2], Duration::from_secs(30)).unwrap();
    println!("converged {back:?} after the restart");
    c.wait_more(300, Duration::from_secs(20), received).unwrap();
    let report = c.finish(Duration::from_secs(10)).unwrap();
    println!("{report}");
    assert!(report.ok(), "{report}");
}

#[test]
fn transport_delay_loss_and_resets_break_no_promise() {
    let _serial = serial();
    let mut c = running(3);
    c.send(0, "fault delay 30").unwrap();
    // One in 7: coprime with the workload's call period (5), so casts are dropped too.
    c.send(1, "fault drop 7").unwrap();
    c.injected("delay 30 ms; drop 1 in 7", &[0, 1]);
    c.wait_more(300, Duration::from_secs(20), received).unwrap();
    for _ in 0..3 {
        c.send(0, "fault reset node-3").unwrap();
        c.send(2, "fault reset node-2").unwrap();
        c.wait_more(100, Duration::from_secs(20), received).unwrap();
    }
    c.broadcast("fault heal").unwrap();
    // No node was lost to these faults.
    let views = c.converged(&[0, 1, 2], Duration::from_secs(5)).unwrap();
    println!("still converged ({views:?})");
    let report = c.finish(Duration::from_secs(10)).unwrap();
    println!("{report}");
    assert!(report.ok(), "{report}");
    assert!(
        report.lost > 0,
        "the dropped messages are counted as lost:\n{report}"
    );
    assert!(
        c.downs().is_empty(),
        "no node declared down: {:?}",
        c.downs()
    );
}

#[test]
fn a_node_cut_off_by_the_fault_layer_is_declared_down_and_rejoins_after_the_heal() {
    let _serial = serial();
    let mut c = running(3);
    c.send(2, "fault isolate").unwrap();
    c.injected("isolate", &[2]);
    let took = c.converged(&[0, 1], Duration::from_secs(30)).unwrap();
    println!("declared down {took:?} after the isolation");
    c.send(2, "fault heal").unwrap();
    let back = c.converged(&[0, 1, 2], Duration::from_secs(30)).unwrap();
    println!("re-converged {back:?} after the heal");
    c.wait_more(200, Duration::from_secs(20), received).unwrap();
    let report = c.finish(Duration::from_secs(10)).unwrap();
    println!("{report}");
    assert!(report.ok(), "{report}");
}
