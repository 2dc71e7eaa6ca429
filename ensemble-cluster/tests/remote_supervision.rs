//! Monitors and links across nodes: the remote actor's real exit reason, or
//! `NoConnection` when its node is lost; exactly once; links that fail and stop across
//! nodes; quarantine of a node declared down.

mod common;

use std::time::Duration;

use common::*;
use ensemble::{ExitReason, SupervisionEvent};
use ensemble_cluster::DevCa;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_monitor_hears_the_real_exit_reason_once() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let c = counter(&a).await;
    a.register("counter", &c).unwrap();
    let remote = eventually(WAIT, || b.where_is::<CounterMsg>("counter"))
        .await
        .unwrap();
    let (w, mut events) = watcher(&b).await;
    w.cast(WatcherMsg::Monitor(remote.cell())).unwrap();
    // The monitor is set up on node-a before the failure: a round trip through the same
    // connection after it.
    remote.call(CounterMsg::Get, Some(WAIT)).await.unwrap();
    let _ = remote
        .call(|r| CounterMsg::Fail("broken".into(), r), Some(WAIT))
        .await;
    match next_supervision(&mut events, WAIT).await {
        SupervisionEvent::ActorDown(cell, ExitReason::Failed(text)) => {
            assert_eq!(cell.id(), remote.id());
            assert!(text.contains("broken"), "{text}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Exactly once: nothing more, even when node-a later leaves.
    a.shutdown().await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), events.recv())
            .await
            .is_err()
    );
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_node_fires_every_monitor_once_with_no_connection() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let c = counter(&a).await;
    a.register("counter", &c).unwrap();
    let remote = eventually(WAIT, || b.where_is::<CounterMsg>("counter"))
        .await
        .unwrap();
    let (w1, mut e1) = watcher(&b).await;
    let (w2, mut e2) = watcher(&b).await;
    w1.cast(WatcherMsg::Monitor(remote.cell())).unwrap();
    w2.cast(WatcherMsg::Monitor(remote.cell())).unwrap();
    w2.cast(WatcherMsg::Monitor(remote.cell())).unwrap(); // twice is one monitor
    remote.call(CounterMsg::Get, Some(WAIT)).await.unwrap();
    a.shutdown().await;
    for events in [&mut e1, &mut e2] {
        match next_supervision(events, WAIT).await {
            SupervisionEvent::ActorDown(cell, reason) => {
                assert_eq!(cell.id(), remote.id());
                // A graceful leave: the node's goodbye or its actors' own ends, whichever
                // comes first; never both.
                assert!(
                    matches!(reason, ExitReason::NoConnection | ExitReason::Stopped(_)),
                    "{reason:?}"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            tokio::time::timeout(Duration::from_millis(300), events.recv())
                .await
                .is_err()
        );
    }
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demonitor_works_across_nodes_and_a_dead_target_is_noproc() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let c = counter(&a).await;
    a.register("counter", &c).unwrap();
    let remote = eventually(WAIT, || b.where_is::<CounterMsg>("counter"))
        .await
        .unwrap();
    let (w, mut events) = watcher(&b).await;
    w.cast(WatcherMsg::Monitor(remote.cell())).unwrap();
    w.cast(WatcherMsg::Demonitor(remote.cell())).unwrap();
    remote.call(CounterMsg::Get, Some(WAIT)).await.unwrap();
    c.stop(None);
    c.wait(None).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), events.recv())
            .await
            .is_err()
    );
    // Monitoring an actor that has ended: NoProc at once.
    w.cast(WatcherMsg::Monitor(remote.cell())).unwrap();
    match next_supervision(&mut events, WAIT).await {
        SupervisionEvent::ActorDown(cell, ExitReason::NoProc) => assert_eq!(cell.id(), remote.id()),
        other => panic!("unexpected {other:?}"),
    }
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_child_fails_into_its_parent_and_a_stopping_parent_stops_it() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let c1 = counter(&a).await;
    a.register("c1", &c1).unwrap();
    let c2 = counter(&a).await;
    a.register("c2", &c2).unwrap();
    let r1 = eventually(WAIT, || b.where_is::<CounterMsg>("c1"))
        .await
        .unwrap();
    let r2 = eventually(WAIT, || b.where_is::<CounterMsg>("c2"))
        .await
        .unwrap();
    let (parent, mut events) = watcher(&b).await;
    r1.cell().link(parent.cell());
    r2.cell().link(parent.cell());
    assert_eq!(parent.cell().children().len(), 2);
    // The link reached node-a before what follows: a round trip on the same connection.
    r1.call(CounterMsg::Get, Some(WAIT)).await.unwrap();
    let _ = r1
        .call(|r| CounterMsg::Fail("child broke".into(), r), Some(WAIT))
        .await;
    match next_supervision(&mut events, WAIT).await {
        SupervisionEvent::ActorFailed(cell, err) => {
            assert_eq!(cell.id(), r1.id());
            assert!(err.to_string().contains("child broke"), "{err}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(parent.cell().children().len(), 1);
    // A parent that stops stops its remote child.
    parent.stop(None);
    tokio::time::timeout(WAIT, c2.wait(None))
        .await
        .unwrap()
        .unwrap();
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_a_childs_node_fails_it_into_its_parent_and_quarantines_the_node() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let c = counter(&a).await;
    a.register("counter", &c).unwrap();
    let remote = eventually(WAIT, || b.where_is::<CounterMsg>("counter"))
        .await
        .unwrap();
    let (parent, mut events) = watcher(&b).await;
    remote.cell().link(parent.cell());
    remote.call(CounterMsg::Get, Some(WAIT)).await.unwrap();
    a.shutdown().await;
    match next_supervision(&mut events, WAIT).await {
        SupervisionEvent::ActorFailed(cell, err) => {
            assert_eq!(cell.id(), remote.id());
            // The node left: either its goodbye (no connection) came first, or the
            // child's own stop; never both.
            let text = err.to_string();
            assert!(text.contains("no connection to node node-a"), "{text}");
        }
        SupervisionEvent::ActorTerminated(cell, _, _) => assert_eq!(cell.id(), remote.id()),
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), events.recv())
            .await
            .is_err()
    );
    b.shutdown().await;
}
