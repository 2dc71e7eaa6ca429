//! Several nodes in one process, on loopback: membership, the registry, remote cast and
//! call, refs that travel, and a graceful leave.

mod common;

use std::time::Duration;

use common::*;
use ensemble::{Actor, CallError, RemoteError, SpawnOptions};
use ensemble_cluster::{ClusterEvent, DevCa, DownReason, MemberStatus};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_join_find_each_other_and_call_across() {
    let ca = DevCa::new("test").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let mut a_events = a.subscribe();
    let b = node(&ca, "node-b", &[&a]).await;
    let mut b_events = b.subscribe();
    up(&mut a_events, "node-b").await;
    up(&mut b_events, "node-a").await;
    let members: Vec<_> = a
        .members()
        .iter()
        .map(|m| (m.name.clone(), m.status))
        .collect();
    assert_eq!(
        members,
        [
            ("node-a".to_string(), MemberStatus::Up),
            ("node-b".to_string(), MemberStatus::Up)
        ]
    );

    let c = counter(&a).await;
    a.register("counter", &c).unwrap();
    // Locally, the actor itself.
    assert_eq!(a.where_is::<CounterMsg>("counter").await.unwrap(), c);
    // Remotely, once gossip has spread the name: a ref with the remote actor's identity.
    let remote = eventually(WAIT, || b.where_is::<CounterMsg>("counter"))
        .await
        .expect("name gossiped to node-b");
    assert!(!remote.id().is_local());
    assert_eq!(remote.id().local(), c.id().local());
    // A wrong message type is None, never a mistyped ref.
    assert!(b.where_is::<Notice>("counter").await.is_none());

    for n in 1..=3 {
        remote.cast(CounterMsg::Add(n)).unwrap();
    }
    let total = remote.call(CounterMsg::Get, Some(WAIT)).await.unwrap();
    assert_eq!(
        total, 6,
        "casts then a call from one sender arrive in order"
    );

    // A ref travels and resolves on its own node: node-a's counter notifies node-b.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (listener, _) = Actor::spawn_with(SpawnOptions::new().system(b.system()), Listener, tx)
        .await
        .unwrap();
    remote
        .cast(CounterMsg::Subscribe(listener.clone()))
        .unwrap();
    remote.cast(CounterMsg::Add(4)).unwrap();
    assert_eq!(
        tokio::time::timeout(WAIT, rx.recv()).await.unwrap(),
        Some(10)
    );

    // The reply port dropped by a failing actor: ReplyDropped, at once.
    let err = remote
        .call(|r| CounterMsg::Fail("boom".into(), r), Some(WAIT))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::ReplyDropped), "{err:?}");
    // The actor is gone now: NoActor.
    let gone = eventually(WAIT, || async {
        match remote.call(CounterMsg::Get, Some(WAIT)).await {
            Err(CallError::Remote(RemoteError::NoActor)) => Some(()),
            _ => None,
        }
    })
    .await;
    assert!(gone.is_some(), "a call to an ended remote actor is NoActor");

    // `stop` on a remote ref stops the remote actor.
    let c2 = counter(&a).await;
    a.register("counter-2", &c2).unwrap();
    let remote2 = eventually(WAIT, || b.where_is::<CounterMsg>("counter-2"))
        .await
        .unwrap();
    remote2.stop(None);
    tokio::time::timeout(WAIT, c2.wait(None))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        remote2.cast(CounterMsg::Add(1)),
        Err(ensemble::SendError::Closed(_))
    ));

    // A graceful leave is seen at once, not after the failure detector's timeout.
    let started = std::time::Instant::now();
    b.shutdown().await;
    loop {
        match next_event(&mut a_events, WAIT).await {
            ClusterEvent::NodeDown(m, why) if m.name == "node-b" => {
                assert_eq!(why, DownReason::Left);
                break;
            }
            _ => {}
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(a.members().len(), 1);
    a.shutdown().await;
}
