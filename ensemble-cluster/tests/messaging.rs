//! Remote messages: order per sender, timeouts, calls that end with their node, process
//! groups across nodes, names gone with their node, and a restarted node's new
//! incarnation.

mod common;

use std::time::Duration;

use common::*;
use ensemble::{Actor, CallError, RemoteError, SendError, SpawnOptions};
use ensemble_cluster::{ClusterEvent, DevCa, DownReason};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_senders_messages_arrive_in_order() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let (rec, _) = Actor::spawn_with(SpawnOptions::new().system(a.system()), Recorder, ())
        .await
        .unwrap();
    a.register("recorder", &rec).unwrap();
    let remote = eventually(WAIT, || b.where_is::<SeqMsg>("recorder"))
        .await
        .unwrap();
    // Two senders on node-b, interleaved: each one's order is kept.
    let senders: Vec<_> = (0..2u32)
        .map(|s| {
            let remote = remote.clone();
            tokio::spawn(async move {
                for n in 0..2_000u64 {
                    remote.send(SeqMsg::Item(s, n)).await.unwrap();
                }
            })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    let seen = remote.call(SeqMsg::Seen, Some(WAIT)).await.unwrap();
    assert_eq!(seen.len(), 4_000, "nothing lost on a healthy connection");
    for s in 0..2 {
        let mine: Vec<u64> = seen
            .iter()
            .filter(|(x, _)| *x == s)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(mine, (0..2_000).collect::<Vec<_>>(), "sender {s} in order");
    }
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_call_times_out_or_ends_with_its_node_exactly_once() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let c = counter(&a).await;
    a.register("counter", &c).unwrap();
    let remote = eventually(WAIT, || b.where_is::<CounterMsg>("counter"))
        .await
        .unwrap();
    // A timeout is prompt; the late reply is dropped quietly.
    let started = tokio::time::Instant::now();
    let err = remote
        .call(
            |r| CounterMsg::Slow(300, r),
            Some(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Timeout), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(250));
    // The counter is still fine after its late reply went nowhere.
    assert_eq!(remote.call(CounterMsg::Get, Some(WAIT)).await.unwrap(), 0);

    // A call in flight when the target's node leaves ends with NodeDown, at once.
    let mut events = b.subscribe();
    let slow = {
        let remote = remote.clone();
        tokio::spawn(async move { remote.call(|r| CounterMsg::Slow(60_000, r), None).await })
    };
    eventually(WAIT, || async { (b.pending_calls() > 0).then_some(()) })
        .await
        .unwrap();
    a.shutdown().await;
    let err = tokio::time::timeout(WAIT, slow)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, CallError::Remote(RemoteError::NodeDown { ref node }) if node == "node-a"),
        "{err:?}"
    );
    loop {
        if let ClusterEvent::NodeDown(m, why) = next_event(&mut events, WAIT).await {
            assert_eq!((m.name.as_str(), why), ("node-a", DownReason::Left));
            break;
        }
    }
    // Refs to a node that is down fail at once, handing the message back.
    assert!(matches!(
        remote.cast(CounterMsg::Add(1)),
        Err(SendError::Closed(_))
    ));
    assert_eq!(b.pending_calls(), 0);
    // Its names are gone with it.
    assert!(b.where_is::<CounterMsg>("counter").await.is_none());
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_span_nodes_and_members_leave_when_they_end() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let on_a = counter(&a).await;
    let on_b = counter(&b).await;
    a.join("workers", &on_a).unwrap();
    b.join("workers", &on_b).unwrap();
    let both = eventually(WAIT, || async {
        let m = a.group_members::<CounterMsg>("workers");
        (m.len() == 2).then_some(m)
    })
    .await
    .expect("both members seen from node-a");
    assert_eq!(both[0], on_a, "this node's members first");
    for m in &both {
        m.cast(CounterMsg::Add(1)).unwrap();
    }
    // The remote member's count arrives over the wire: ask through the same ref (FIFO).
    assert_eq!(both[1].call(CounterMsg::Get, Some(WAIT)).await.unwrap(), 1);
    assert!(
        a.group_members::<Notice>("workers").is_empty(),
        "wrong type: none"
    );
    on_b.stop(None);
    let one = eventually(WAIT, || async {
        let m = a.group_members::<CounterMsg>("workers");
        (m.len() == 1).then_some(m)
    })
    .await;
    assert_eq!(one.unwrap()[0], on_a, "an ended member leaves everywhere");
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_is_a_new_incarnation_and_old_refs_fail() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let mut events = a.subscribe();
    let b1 = node(&ca, "node-b", &[&a]).await;
    let c1 = counter(&b1).await;
    b1.register("counter", &c1).unwrap();
    let old = eventually(WAIT, || a.where_is::<CounterMsg>("counter"))
        .await
        .unwrap();
    let first = b1.incarnation();
    b1.shutdown().await;
    let b2 = node(&ca, "node-b", &[&a]).await;
    assert!(b2.incarnation() > first);
    let mut saw_up = false;
    while !saw_up {
        match next_event(&mut events, WAIT).await {
            ClusterEvent::NodeUp(m) if m.name == "node-b" && m.incarnation == b2.incarnation() => {
                saw_up = true;
            }
            ClusterEvent::NodeUp(m) if m.name == "node-b" => assert_eq!(m.incarnation, first),
            _ => {}
        }
    }
    assert!(
        matches!(old.cast(CounterMsg::Add(1)), Err(SendError::Closed(_))),
        "old incarnation"
    );
    let c2 = counter(&b2).await;
    b2.register("counter", &c2).unwrap();
    let new = eventually(WAIT, || async {
        a.where_is::<CounterMsg>("counter")
            .await
            .filter(|r| r.id() != old.id())
    })
    .await
    .expect("the new incarnation's name");
    new.cast(CounterMsg::Add(2)).unwrap();
    assert_eq!(new.call(CounterMsg::Get, Some(WAIT)).await.unwrap(), 2);
    b2.shutdown().await;
    a.shutdown().await;
}
