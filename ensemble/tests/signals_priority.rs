//! Signals: stop, drain and kill semantics, lane priority, dead letters.

mod common;

use common::{Log, Work, Worker, block, hang};
use ensemble_test::TestProbe;

const SEC: std::time::Duration = std::time::Duration::from_secs(1);
use tokio::sync::oneshot;

/// Queues a blocking message followed by `then` before the actor runs (the test runtime
/// is single-threaded), so the actor takes all of them into its local batch at once; then
/// waits until the blocking handler runs. Signals sent now must overtake the batched
/// messages, not just the ones still in the shared queue.
async fn block_with_batched(w: &ActorRef<Work>, then: Vec<Work>) -> oneshot::Sender<()> {
    let (started_tx, started_rx) = oneshot::channel();
    let (gate_tx, gate_rx) = oneshot::channel();
    assert!(
        w.cast(Work::Block {
            started: started_tx,
            gate: gate_rx
        })
        .is_ok()
    );
    for m in then {
        assert!(w.cast(m).is_ok());
    }
    started_rx.await.unwrap();
    gate_tx
}
use ensemble::{Actor, ActorProcessingErr, ActorRef, SendError, SupervisionEvent, node};

#[tokio::test]
async fn stop_lets_the_running_handler_finish_and_skips_queued_messages() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("s", &log), ())
        .await
        .unwrap();
    let gate = block(&w).await;
    for n in 1..=4 {
        w.cast(Work::Record(n)).unwrap();
    }
    let before = node::dead_letters();
    w.stop(None);
    gate.send(()).unwrap();
    handle.await.unwrap();
    assert_eq!(
        log.snapshot(),
        ["s:pre_start", "s:post_start", "s:unblocked", "s:post_stop"]
    );
    // The four queued messages were counted as dead letters, not silently lost.
    assert_eq!(w.cell().dead_letters(), 4);
    assert!(node::dead_letters() >= before + 4);
}

#[tokio::test]
async fn stop_overtakes_messages_already_taken_into_the_actors_batch() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("sb", &log), ())
        .await
        .unwrap();
    let gate = block_with_batched(&w, (1..=3).map(Work::Record).collect()).await;
    w.stop(None);
    gate.send(()).unwrap();
    handle.await.unwrap();
    assert!(!log.contains("sb:1"), "{:?}", log.snapshot());
    assert_eq!(w.cell().dead_letters(), 3);
}

#[tokio::test]
async fn kill_is_taken_before_stop_when_both_are_pending() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("kp", &log), ())
        .await
        .unwrap();
    // The actor has not run yet on this single-threaded runtime: both signals are
    // pending together when it first looks at its mailbox.
    w.cast(Work::Record(1)).unwrap();
    w.stop(None);
    w.kill();
    handle.await.unwrap();
    assert!(!log.contains("kp:post_stop"), "kill must win over stop");
    assert!(!log.contains("kp:1"));
}

#[tokio::test]
async fn a_message_accepted_while_a_stop_is_in_flight_is_a_dead_letter() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("inflight", &log), ())
        .await
        .unwrap();
    let gate = block(&w).await;
    w.stop(Some("going".into()));
    // The stop has not been taken yet (the handler is still running), so this is
    // accepted; it must be counted when the actor ends.
    w.cast(Work::Record(5)).unwrap();
    gate.send(()).unwrap();
    handle.await.unwrap();
    assert!(!log.contains("inflight:5"));
    assert_eq!(w.cell().dead_letters(), 1);
}

#[tokio::test]
async fn drain_handles_everything_queued_then_stops_and_refuses_later_casts() {
    let log = Log::default();
    let sup = TestProbe::<()>::spawn().await;
    let (w, handle) = Actor::spawn_linked(None, Worker::new("d", &log), (), sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    let gate = block(&w).await;
    for n in 1..=5 {
        w.cast(Work::Record(n)).unwrap();
    }
    w.drain().unwrap();
    match w.cast(Work::Record(6)) {
        Err(SendError::Closed(Work::Record(6))) => {}
        _ => panic!("a cast after drain must be refused with the message"),
    }
    assert!(w.drain().is_err(), "a second drain is refused");
    gate.send(()).unwrap();
    handle.await.unwrap();
    let handled: Vec<_> = log
        .snapshot()
        .into_iter()
        .filter(|l| l.starts_with("d:"))
        .collect();
    assert_eq!(
        handled,
        [
            "d:pre_start",
            "d:post_start",
            "d:unblocked",
            "d:1",
            "d:2",
            "d:3",
            "d:4",
            "d:5",
            "d:post_stop"
        ]
    );
    match sup.expect_event(SEC).await {
        SupervisionEvent::ActorTerminated(_, Some(_), None) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(w.cell().dead_letters(), 0);
}

#[tokio::test]
async fn kill_abandons_the_running_handler_and_skips_post_stop() {
    let log = Log::default();
    let sup = TestProbe::<()>::spawn().await;
    let (w, handle) = Actor::spawn_linked(None, Worker::new("k", &log), (), sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    hang(&w).await;
    w.cast(Work::Record(1)).unwrap();
    w.kill();
    handle.await.unwrap();
    assert!(!log.contains("k:hang-resumed"));
    assert!(!log.contains("k:1"));
    assert!(!log.contains("k:post_stop"));
    match sup.expect_event(SEC).await {
        SupervisionEvent::ActorTerminated(_, None, Some(reason)) => assert_eq!(reason, "killed"),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn kill_overtakes_a_pending_stop() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("ks", &log), ())
        .await
        .unwrap();
    let gate = block(&w).await;
    w.stop(None);
    w.kill();
    handle.await.unwrap();
    drop(gate);
    assert!(!log.contains("ks:post_stop"));
    assert!(!log.contains("ks:unblocked"));
}

/// A parent that logs events and messages in the order it handles them.
struct Recorder {
    log: Log,
}

impl Actor for Recorder {
    type Msg = Work;
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<Work>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
    async fn handle(
        &self,
        _: ActorRef<Work>,
        msg: Work,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Work::Record(n) => self.log.push(format!("msg:{n}")),
            Work::Block { started, gate } => {
                let _ = started.send(());
                let _ = gate.await;
            }
            _ => {}
        }
        Ok(())
    }
    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<Work>,
        evt: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        let kind = match evt {
            SupervisionEvent::ActorStarted(_) => "started",
            SupervisionEvent::ActorFailed(..) => "failed",
            SupervisionEvent::ActorTerminated(..) => "terminated",
            _ => "other",
        };
        self.log.push(format!("evt:{kind}"));
        Ok(())
    }
}

#[tokio::test]
async fn supervision_events_overtake_queued_messages() {
    let log = Log::default();
    let (parent, _) = Actor::spawn(None, Recorder { log: log.clone() }, ())
        .await
        .unwrap();
    let gate = block_with_batched(&parent, vec![Work::Record(1), Work::Record(2)]).await;
    let child_log = Log::default();
    let (child, child_handle) =
        Actor::spawn_linked(None, Worker::new("c", &child_log), (), parent.cell())
            .await
            .unwrap();
    child.cast(Work::Fail("boom".into())).unwrap();
    child_handle.await.unwrap(); // the ActorFailed event is now queued at the parent
    gate.send(()).unwrap();
    parent.call(Work::Get, None).await.ok();
    assert_eq!(
        log.snapshot(),
        ["evt:started", "evt:failed", "msg:1", "msg:2"]
    );
}
