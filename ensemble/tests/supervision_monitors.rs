//! Monitors: one-way, exactly once, with the exit reason; NoProc for the dead. The
//! watchers are test probes (`ensemble-test`), on paused time.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker, hang};
use ensemble::{Actor, ActorStatus, ExitReason};
use ensemble_test::TestProbe;

/// Long enough for anything queued to arrive; free on paused time.
const QUIET: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn a_watcher_hears_each_kind_of_end_once_with_its_reason() {
    let log = Log::default();
    let watcher = TestProbe::<()>::spawn().await;
    for how in ["stop", "fail", "kill"] {
        let (w, _) = Actor::spawn(None, Worker::new("t", &log), ())
            .await
            .unwrap();
        watcher.watch(&w.cell());
        watcher.watch(&w.cell()); // a second monitor of the same target is the same one
        match how {
            "stop" => w.stop(Some("done".into())),
            "fail" => w.cast(Work::Fail("bad input".into())).unwrap(),
            _ => {
                hang(&w).await;
                w.kill()
            }
        }
        let (id, reason) = watcher.expect_down().await;
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
    // Exactly once, and the watcher's own life is unaffected, even by a failure.
    watcher.expect_no_event(QUIET).await;
    assert_eq!(watcher.cell().status(), ActorStatus::Running);
}

#[tokio::test(start_paused = true)]
async fn monitoring_a_dead_actor_delivers_noproc_at_once() {
    let watcher = TestProbe::<()>::spawn().await;
    let (w, handle) = Actor::spawn(None, Worker::new("dead", &Log::default()), ())
        .await
        .unwrap();
    w.stop(None);
    handle.await.unwrap();
    watcher.watch(&w.cell());
    assert_eq!(watcher.expect_down().await, (w.id(), ExitReason::NoProc));
}

#[tokio::test(start_paused = true)]
async fn many_watchers_each_hear_once() {
    let (w, _) = Actor::spawn(None, Worker::new("many", &Log::default()), ())
        .await
        .unwrap();
    let mut watchers = Vec::new();
    for _ in 0..3 {
        let watcher = TestProbe::<()>::spawn().await;
        watcher.watch(&w.cell());
        watchers.push(watcher);
    }
    w.stop(None);
    for watcher in &watchers {
        assert_eq!(watcher.expect_down().await.0, w.id());
        watcher.expect_no_event(QUIET).await;
    }
}

#[tokio::test(start_paused = true)]
async fn demonitor_cancels_the_event() {
    let watcher = TestProbe::<()>::spawn().await;
    let (w, handle) = Actor::spawn(None, Worker::new("dm", &Log::default()), ())
        .await
        .unwrap();
    watcher.watch(&w.cell());
    watcher.unwatch(&w.cell());
    w.stop(None);
    handle.await.unwrap();
    watcher.expect_no_event(QUIET).await;
}

#[tokio::test(start_paused = true)]
async fn a_monitor_does_not_link_the_target_to_the_watcher() {
    let watcher = TestProbe::<()>::spawn().await;
    let (w, _) = Actor::spawn(None, Worker::new("free", &Log::default()), ())
        .await
        .unwrap();
    watcher.watch(&w.cell());
    // The watcher ending does not stop the target, and the target forgets the watcher.
    watcher.stop().await;
    assert_eq!(w.status(), ActorStatus::Running);
    assert_eq!(w.call(Work::Get, None).await.unwrap(), Vec::<u32>::new());
}
