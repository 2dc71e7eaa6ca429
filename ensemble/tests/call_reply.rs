//! call: replies, timeouts, dropped ports, dead actors.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker, block, poll_once};
use ensemble::{
    Actor, ActorProcessingErr, ActorRef, ActorStatus, CallError, RpcReplyPort, SendError,
};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Replies after a gate opens, with `reply.send(v)?` like the seed does.
struct Slow;

enum SlowMsg {
    Answer(oneshot::Receiver<()>, RpcReplyPort<u32>),
    Drop(RpcReplyPort<u32>),
    Quick(RpcReplyPort<u32>),
}

impl Actor for Slow {
    type Msg = SlowMsg;
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<SlowMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
    async fn handle(
        &self,
        _: ActorRef<SlowMsg>,
        msg: SlowMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SlowMsg::Answer(gate, reply) => {
                let _ = gate.await;
                reply.send(42)?;
            }
            SlowMsg::Drop(reply) => drop(reply),
            SlowMsg::Quick(reply) => reply.send(7)?,
        }
        Ok(())
    }
}

#[tokio::test]
async fn call_returns_the_reply_itself() {
    let (slow, _) = Actor::spawn(None, Slow, ()).await.unwrap();
    let v: u32 = slow
        .call(SlowMsg::Quick, Some(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(v, 7);
    let v: u32 = slow.call(SlowMsg::Quick, None).await.unwrap();
    assert_eq!(v, 7);
}

#[tokio::test(start_paused = true)]
async fn call_timeout_is_prompt_and_late_reply_is_dropped_quietly() {
    let (slow, handle) = Actor::spawn(None, Slow, ()).await.unwrap();
    let (gate_tx, gate_rx) = oneshot::channel();
    let start = Instant::now();
    let err = slow
        .call(
            |r| SlowMsg::Answer(gate_rx, r),
            Some(Duration::from_millis(250)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Timeout), "{err:?}");
    assert_eq!(start.elapsed(), Duration::from_millis(250));
    // Let the handler reply late: `reply.send(42)?` must not fail the actor.
    gate_tx.send(()).unwrap();
    assert_eq!(slow.call(SlowMsg::Quick, None).await.unwrap(), 7);
    assert_eq!(slow.status(), ActorStatus::Running);
    slow.stop(None);
    handle.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn dropped_reply_port_is_reply_dropped_at_once_not_after_timeout() {
    let (slow, _) = Actor::spawn(None, Slow, ()).await.unwrap();
    let start = Instant::now();
    let err = slow
        .call(SlowMsg::Drop, Some(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::ReplyDropped), "{err:?}");
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn call_to_an_ended_actor_hands_the_request_back() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("gone", &log), ())
        .await
        .unwrap();
    w.stop(None);
    handle.await.unwrap();
    let err = w
        .call(Work::Get, Some(Duration::from_secs(1)))
        .await
        .unwrap_err();
    match err {
        CallError::Send(SendError::Closed(Work::Get(_port))) => {}
        other => panic!("unexpected {other:?}"),
    }
    // into_message gives the request back too.
    let err = w.call(Work::Get, None).await.unwrap_err();
    assert!(matches!(err.into_message(), Some(Work::Get(_))));
}

#[tokio::test]
async fn call_queued_when_the_actor_stops_is_reply_dropped_and_a_dead_letter() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("stopping", &log), ())
        .await
        .unwrap();
    let gate = block(&w).await;
    let mut call = Box::pin(w.call(Work::Get, None));
    assert!(poll_once(&mut call).await.is_pending()); // the request is queued
    w.stop(None);
    gate.send(()).unwrap();
    handle.await.unwrap();
    let err = call.await.unwrap_err();
    assert!(matches!(err, CallError::ReplyDropped), "{err:?}");
    assert_eq!(w.cell().dead_letters(), 1);
}

#[tokio::test]
async fn reply_port_send_to_a_gone_caller_is_an_error_with_the_value() {
    let (tx, rx) = oneshot::channel::<String>();
    let port: RpcReplyPort<String> = tx.into();
    assert!(!port.is_closed());
    drop(rx);
    assert!(port.is_closed());
    match port.send("late".to_string()) {
        Err(SendError::Closed(v)) => assert_eq!(v, "late"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn reply_port_is_debug_for_any_payload() {
    struct NotDebug;
    let (tx, _rx) = oneshot::channel::<NotDebug>();
    let port: RpcReplyPort<NotDebug> = tx.into();
    assert!(format!("{port:?}").starts_with("RpcReplyPort"));
}
