//! Monitors: one-way, exactly once, with the exit reason; NoProc for the dead.

mod common;

use common::{Log, Work, Worker, hang, next_event, observer};
use ensemble::{Actor, ActorStatus, ExitReason, SupervisionEvent};

async fn down_reason(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<SupervisionEvent>,
) -> (ensemble::ActorId, ExitReason) {
    match next_event(events).await {
        SupervisionEvent::ActorDown(cell, reason) => (cell.id(), reason),
        other => panic!("expected ActorDown, got {other:?}"),
    }
}

#[tokio::test]
async fn a_watcher_hears_each_kind_of_end_once_with_its_reason() {
    let log = Log::default();
    let (obs, watcher, mut events) = observer().await;
    for how in ["stop", "fail", "kill"] {
        let (w, handle) = Actor::spawn(None, Worker::new("t", &log), ())
            .await
            .unwrap();
        watcher.monitor(w.cell());
        watcher.monitor(w.cell()); // a second monitor of the same target is the same one
        match how {
            "stop" => w.stop(Some("done".into())),
            "fail" => w.cast(Work::Fail("bad input".into())).unwrap(),
            _ => {
                hang(&w).await;
                w.kill()
            }
        }
        handle.await.unwrap();
        let (id, reason) = down_reason(&mut events).await;
        assert_eq!(id, w.id());
        match how {
            "stop" => assert_eq!(reason, ExitReason::Stopped(Some("done".into()))),
            "fail" => assert!(
                matches!(&reason, ExitReason::Failed(t) if t.contains("bad input")),
                "{reason:?}"
            ),
            _ => assert_eq!(reason, ExitReason::Killed),
        }
    }
    // Exactly once: nothing else arrived (a round trip flushes queued events first).
    obs.call(common::ObserverMsg::Ping, None).await.unwrap();
    assert!(events.try_recv().is_err());
    // The watcher's own life is unaffected, even by a failure.
    assert_eq!(watcher.status(), ActorStatus::Running);
}

#[tokio::test]
async fn monitoring_a_dead_actor_delivers_noproc_at_once() {
    let log = Log::default();
    let (_obs, watcher, mut events) = observer().await;
    let (w, handle) = Actor::spawn(None, Worker::new("dead", &log), ())
        .await
        .unwrap();
    w.stop(None);
    handle.await.unwrap();
    watcher.monitor(w.cell());
    assert_eq!(down_reason(&mut events).await, (w.id(), ExitReason::NoProc));
}

#[tokio::test]
async fn many_watchers_each_hear_once() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("many", &log), ())
        .await
        .unwrap();
    let mut watchers = Vec::new();
    for _ in 0..3 {
        let (obs, cell, events) = observer().await;
        cell.monitor(w.cell());
        watchers.push((obs, events));
    }
    w.stop(None);
    handle.await.unwrap();
    for (obs, events) in &mut watchers {
        assert_eq!(down_reason(events).await.0, w.id());
        obs.call(common::ObserverMsg::Ping, None).await.unwrap();
        assert!(events.try_recv().is_err());
    }
}

#[tokio::test]
async fn demonitor_cancels_the_event() {
    let log = Log::default();
    let (obs, watcher, mut events) = observer().await;
    let (w, handle) = Actor::spawn(None, Worker::new("dm", &log), ())
        .await
        .unwrap();
    watcher.monitor(w.cell());
    watcher.demonitor(w.cell());
    w.stop(None);
    handle.await.unwrap();
    obs.call(common::ObserverMsg::Ping, None).await.unwrap();
    assert!(events.try_recv().is_err());
}

#[tokio::test]
async fn a_monitor_does_not_link_the_target_to_the_watcher() {
    let log = Log::default();
    let (obs, watcher, _events) = observer().await;
    let (w, _) = Actor::spawn(None, Worker::new("free", &log), ())
        .await
        .unwrap();
    watcher.monitor(w.cell());
    // The watcher ending does not stop the target, and the target forgets the watcher.
    obs.stop_and_wait(None, None).await.unwrap();
    assert_eq!(w.status(), ActorStatus::Running);
    assert_eq!(w.call(Work::Get, None).await.unwrap(), Vec::<u32>::new());
}
