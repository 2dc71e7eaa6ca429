//! What ractor code relies on, on Ensemble: the migration names (deprecated aliases that
//! compile), and the features added for it: typed sends through a cell, derived refs,
//! `multi_call`, `call_and_forward` / `forward!`, children operations, `spawn_linked` on
//! refs, `#[actor]` / `#[message]` / `#[rpc]`, timers in ractor's shapes, the 2-argument
//! `OutputPort::subscribe`, `concurrency`. SEMANTICS section 20.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker};
use ensemble::rpc::{self, ForwardError};
use ensemble::{
    Actor, ActorCell, ActorProcessingErr, ActorRef, ActorStatus, CallError, DerivedActorRef,
    MailboxConfig, OutputPort, Overflow, RpcReplyPort, SendError, SpawnOptions, call_t, forward,
};
use ensemble_test::{TestProbe, within};

const SEC: Duration = Duration::from_secs(1);

/// Records what it is sent; answers `Ask` with the count so far.
#[derive(Default)]
struct Recorder;

#[derive(Debug)]
enum RecMsg {
    Note(String),
    Ask(RpcReplyPort<usize>),
}

impl From<String> for RecMsg {
    fn from(s: String) -> Self {
        RecMsg::Note(s)
    }
}

impl Actor for Recorder {
    type Msg = RecMsg;
    type State = Vec<String>;
    type Arguments = ();
    async fn pre_start(
        &self,
        _: ActorRef<RecMsg>,
        _: (),
    ) -> Result<Vec<String>, ActorProcessingErr> {
        Ok(Vec::new())
    }
    async fn handle(
        &self,
        _: ActorRef<RecMsg>,
        msg: RecMsg,
        notes: &mut Vec<String>,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RecMsg::Note(n) => notes.push(n),
            RecMsg::Ask(reply) => reply.send(notes.len())?,
        }
        Ok(())
    }
}

async fn notes(actor: &ActorRef<RecMsg>) -> Vec<String> {
    actor
        .inspect(|n: &mut Vec<String>| n.clone())
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
#[allow(deprecated)] // the point: ractor's names compile
async fn ractors_names_compile_and_mean_the_ensemble_ones() {
    let (r, _) = ensemble::spawn_named::<Recorder>("rm-names".into(), ())
        .await
        .unwrap();
    assert_eq!(r.get_id(), r.id());
    assert_eq!(r.get_name().as_deref(), Some("rm-names"));
    assert_eq!(r.get_status(), ActorStatus::Running);
    assert_eq!(r.get_cell(), r.cell());
    assert_eq!(r.get_id().pid(), r.id().local());
    r.send_message(RecMsg::Note("a".into())).unwrap();
    let cell: ActorCell = r.get_cell();
    assert_eq!(
        (cell.get_id(), cell.get_name(), cell.get_status()),
        (r.id(), r.name(), r.status())
    );
    assert!(cell.try_get_supervisor().is_none() && r.try_get_supervisor().is_none());
    assert!(cell.get_children().is_empty() && r.get_children().is_empty());
    let _: ensemble::ActorName = "x".to_string();
    let e: ensemble::MessagingErr<u8> = SendError::Closed(1);
    let _: ensemble::RactorErr<u8> = CallError::Send(e);
    let _: Option<ensemble::SpawnErr> = None;
    let _: Option<ensemble::ActorRegistryErr> = None;
    let _: Option<ensemble::BoxedDowncastErr> = None;
    let port: OutputPort<String> = OutputPort::default();
    port.subscribe(r.clone(), |s| Some(RecMsg::Note(s)));
    port.send("b".into());
    assert_eq!(notes(&r).await, ["a", "b"]);
    let watcher = TestProbe::<()>::spawn().await;
    watcher.actor_ref().monitor(r.cell());
    watcher.actor_ref().unmonitor(r.cell());
    r.stop(None);
    watcher.expect_no_event(SEC).await;
    let (unnamed, _) = ensemble::spawn::<Recorder>(()).await.unwrap();
    assert_eq!(unnamed.name(), None);
}

#[tokio::test(start_paused = true)]
async fn a_typed_send_through_a_cell_hands_back_a_wrong_type() {
    let (r, _) = Actor::spawn(None, Recorder, ()).await.unwrap();
    let cell = r.cell();
    cell.send_message(RecMsg::Note("typed".into())).unwrap();
    match cell.send_message(42u32) {
        Err(SendError::WrongType(42)) => {}
        other => panic!("expected WrongType(42), got {other:?}"),
    }
    let text = SendError::WrongType(1u8).to_string();
    assert!(text.contains("u8"), "{text}");
    rpc::cast(&cell, RecMsg::Note("rpc".into())).unwrap();
    assert_eq!(rpc::call(&cell, RecMsg::Ask, None).await.unwrap(), 2);
    match rpc::call::<u32, u32, _>(&cell, |_| 7, None).await {
        Err(CallError::Send(SendError::WrongType(7))) => {}
        other => panic!("expected WrongType(7), got {other:?}"),
    }
    assert_eq!(notes(&r).await, ["typed", "rpc"]);
}

#[tokio::test(start_paused = true)]
async fn a_derived_ref_converts_and_hands_back_the_narrow_message() {
    let options = SpawnOptions::default().mailbox(MailboxConfig::bounded(1, Overflow::Reject));
    let (r, handle) = Actor::spawn_with(options, Recorder, ()).await.unwrap();
    let notes_only: DerivedActorRef<String> = r.derived();
    assert_eq!(notes_only.id(), r.id());
    r.suspend().await.unwrap();
    notes_only.cast("one".into()).unwrap();
    // Full: the `String` itself comes back, unconverted.
    assert!(matches!(notes_only.cast("two".into()), Err(SendError::Full(s)) if s == "two"));
    r.resume();
    assert_eq!(notes(&r).await, ["one"]);
    notes_only.stop(None);
    handle.await.unwrap();
    assert!(matches!(notes_only.cast("three".into()), Err(SendError::Closed(s)) if s == "three"));
    let from: DerivedActorRef<String> = r.clone().into();
    assert_eq!(from.cell(), r.cell());
}

#[tokio::test(start_paused = true)]
async fn multi_call_answers_each_in_order_and_one_failure_stays_its_own() {
    let mut actors = Vec::new();
    for _ in 0..3 {
        actors.push(Actor::spawn(None, Recorder, ()).await.unwrap().0);
    }
    actors[1].cast(RecMsg::Note("x".into())).unwrap();
    actors[2].stop(None);
    actors[2].wait(None).await.unwrap();
    let replies = rpc::multi_call(&actors, RecMsg::Ask, Some(SEC)).await;
    assert_eq!(replies.len(), 3);
    assert_eq!(replies[0].as_ref().ok(), Some(&0));
    assert_eq!(replies[1].as_ref().ok(), Some(&1));
    assert!(matches!(
        &replies[2],
        Err(CallError::Send(SendError::Closed(RecMsg::Ask(_))))
    ));
}

#[tokio::test(start_paused = true)]
async fn call_and_forward_and_forward_cast_the_mapped_reply() {
    let (asked, _) = Actor::spawn(None, Recorder, ()).await.unwrap();
    let (sink, _) = Actor::spawn(None, Recorder, ()).await.unwrap();
    asked.cast(RecMsg::Note("a".into())).unwrap();
    let task = asked
        .call_and_forward(
            RecMsg::Ask,
            &sink,
            |n| RecMsg::Note(format!("count {n}")),
            Some(SEC),
        )
        .unwrap();
    task.await.unwrap().unwrap();
    forward!(asked, RecMsg::Ask, sink, |n| RecMsg::Note(format!(
        "again {n}"
    )))
    .unwrap();
    forward!(
        asked,
        RecMsg::Ask,
        sink,
        |n| RecMsg::Note(format!("timed {n}")),
        SEC
    )
    .unwrap();
    assert_eq!(notes(&sink).await, ["count 1", "again 1", "timed 1"]);
    // The forward target gone: the mapped reply comes back.
    sink.stop(None);
    sink.wait(None).await.unwrap();
    match forward!(asked, RecMsg::Ask, sink, |n| RecMsg::Note(format!(
        "lost {n}"
    ))) {
        Err(ForwardError::Forward(SendError::Closed(RecMsg::Note(n)))) => assert_eq!(n, "lost 1"),
        other => panic!("expected the forward refused, got {other:?}"),
    }
    // The called actor gone: the call's error.
    asked.stop(None);
    asked.wait(None).await.unwrap();
    assert!(matches!(
        forward!(asked, RecMsg::Ask, sink, |n: usize| RecMsg::Note(
            n.to_string()
        )),
        Err(ForwardError::Call(CallError::Send(SendError::Closed(_))))
    ));
    assert!(
        asked
            .call_and_forward(RecMsg::Ask, &sink, |n| RecMsg::Note(n.to_string()), None)
            .is_err()
    );
}

/// A parent with three `Worker` children, spawned with `spawn_linked` on its own ref.
struct Parent(Log);

impl Actor for Parent {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, me: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        for label in ["k1", "k2"] {
            me.spawn_linked(None, Worker::new(label, &self.0), ())
                .await?;
        }
        me.cell()
            .spawn_linked(None, Worker::new("k3", &self.0), ())
            .await?;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn children_stop_or_drain_together_and_the_parent_runs_on() {
    let log = Log::default();
    let (parent, _) = Actor::spawn(None, Parent(log.clone()), ()).await.unwrap();
    let kids = parent.children();
    assert_eq!(kids.len(), 3);
    assert_eq!(kids[0].supervisor(), Some(parent.cell()));
    for kid in &kids {
        let kid: ActorRef<Work> = kid.clone().into_ref().unwrap();
        kid.cast(Work::Record(1)).unwrap();
    }
    // Drain: what was queued is handled first.
    within(
        Duration::ZERO..SEC,
        parent.drain_children_and_wait(Some(SEC)),
    )
    .await
    .unwrap();
    for label in ["k1", "k2", "k3"] {
        assert!(
            log.contains(&format!("{label}:1")),
            "{label} drained its message"
        );
    }
    assert!(parent.children().is_empty());
    assert_eq!(parent.status(), ActorStatus::Running);
    // Stop (without waiting), then the same with fresh children.
    let (second, _) = Actor::spawn(None, Parent(log.clone()), ()).await.unwrap();
    let kids = second.children();
    second.stop_children(Some("enough".into()));
    for kid in &kids {
        kid.wait(None).await.unwrap();
    }
    let (third, _) = Actor::spawn(None, Parent(log.clone()), ()).await.unwrap();
    let kids = third.children();
    third.drain_children();
    for kid in &kids {
        kid.wait(None).await.unwrap();
    }
    assert_eq!(third.status(), ActorStatus::Running);
}

struct Counter;

#[ensemble::actor(message = pub enum CounterMsg, state = i64, arguments = i64)]
impl Counter {
    async fn pre_start(
        &self,
        _: ActorRef<CounterMsg>,
        start: i64,
    ) -> Result<i64, ActorProcessingErr> {
        Ok(start)
    }

    /// Adds `amount`.
    #[ensemble::message(Add(amount))]
    fn add(&self, amount: i64, count: &mut i64) {
        *count += amount;
    }

    /// Adds `a * b`, after a pause (an async handler).
    #[ensemble::message(AddProduct(a, b))]
    async fn add_product(&self, count: &mut i64, b: i64, a: i64) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        *count += a * b;
    }

    /// Fails the actor when `fail` is set (a handler returning a `Result`).
    #[ensemble::message(Check(fail))]
    fn check(&self, fail: bool) -> Result<(), ActorProcessingErr> {
        if fail {
            return Err("check failed".into());
        }
        Ok(())
    }

    /// The count plus `extra`.
    #[ensemble::rpc(Read(extra))]
    fn read(&self, extra: i64, count: &i64) -> i64 {
        *count + extra
    }

    /// Stops the actor through its own ref.
    #[ensemble::message(Stop)]
    fn stop(&self, myself: ActorRef<CounterMsg>) {
        myself.stop(Some("asked".into()));
    }

    /// Not a handler: stays a plain method.
    fn helper(&self) -> u8 {
        7
    }
}

#[tokio::test(start_paused = true)]
async fn the_actor_macro_generates_the_enum_and_the_handlers() {
    assert_eq!(Counter.helper(), 7);
    let sup = TestProbe::<()>::spawn().await;
    let (c, _) = Actor::spawn_linked(None, Counter, 10, sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    c.cast(CounterMsg::Add(5)).unwrap();
    c.cast(CounterMsg::AddProduct(2, 3)).unwrap();
    c.cast(CounterMsg::Check(false)).unwrap();
    assert_eq!(call_t!(c, CounterMsg::Read, 1000, 100).unwrap(), 121);
    assert_eq!(c.call(|r| CounterMsg::Read(0, r), None).await.unwrap(), 21);
    c.cast(CounterMsg::Check(true)).unwrap();
    assert_eq!(sup.expect_failed().await.1, "check failed");

    let (c, _) = Actor::spawn_linked(None, Counter, 0, sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    c.cast(CounterMsg::Stop).unwrap();
    assert_eq!(sup.expect_terminated().await.1.as_deref(), Some("asked"));
}

#[tokio::test(start_paused = true)]
async fn timers_take_ractors_shapes() {
    let (r, _) = Actor::spawn(None, Recorder, ()).await.unwrap();
    // A closure, as ractor's `send_after` takes, and a value, as before.
    let _t1 = r.send_after(Duration::from_secs(2), || RecMsg::Note("closure".into()));
    let _t2 = r.send_after(Duration::from_secs(1), RecMsg::Note("value".into()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(notes(&r).await, ["value", "closure"]);
    // `exit_after(d)` stops with no reason; `stop_after` gives one.
    let watcher = TestProbe::<()>::spawn()
        .await
        .with_timeout(Duration::from_secs(10));
    watcher.watch(&r.cell());
    let _t3 = r.exit_after(Duration::from_secs(5));
    let (_, reason) = within(
        Duration::from_secs(5)..Duration::from_secs(6),
        watcher.expect_down(),
    )
    .await;
    assert_eq!(reason, ensemble::ExitReason::Stopped(None));
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_tokio_under_ractors_names() {
    use ensemble::concurrency::{self, Duration as D, Instant};
    let start = Instant::now();
    concurrency::sleep(D::from_millis(5)).await;
    assert!(start.elapsed() >= D::from_millis(5));
    assert_eq!(
        concurrency::timeout(D::from_millis(1), std::future::pending::<()>()).await,
        Err(concurrency::Timeout)
    );
    let (tx, rx) = concurrency::oneshot();
    concurrency::spawn(async move { tx.send(3).unwrap() })
        .await
        .unwrap();
    assert_eq!(rx.await.unwrap(), 3);
    let (tx, mut rx) = concurrency::mpsc_bounded(0);
    tx.send(1).await.unwrap();
    assert_eq!(rx.recv().await, Some(1));
}
