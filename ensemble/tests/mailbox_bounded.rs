//! Bounded mailboxes: overflow policies, waiting senders, counts, dead letters, and
//! signals that a full mailbox never blocks.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Log, Work, Worker, block, poll_once};
use ensemble::{Actor, ActorStatus, MailboxConfig, Overflow, SendError, SpawnOptions, node};
use ensemble_test::TestProbe;

async fn bounded(
    label: &str,
    log: &Log,
    capacity: usize,
    overflow: Overflow,
) -> (ensemble::ActorRef<Work>, tokio::task::JoinHandle<()>) {
    Actor::spawn_with(
        SpawnOptions::new().capacity(capacity, overflow),
        Worker::new(label, log),
        (),
    )
    .await
    .unwrap()
}

/// Waits (yielding, no sleep) until the actor has taken every queued message, so that a
/// following call is not itself refused or shed by the full mailbox.
async fn drained(w: &ensemble::ActorRef<Work>) {
    while w.stats().queued > 0 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn reject_returns_full_with_the_message_and_counts_it() {
    let log = Log::default();
    let (w, _) = bounded("rj", &log, 2, Overflow::Reject).await;
    let gate = block(&w).await; // one message in the handler; the bound is on waiting ones
    w.cast(Work::Record(1)).unwrap();
    w.cast(Work::Record(2)).unwrap();
    match w.cast(Work::Record(3)) {
        Err(SendError::Full(Work::Record(3))) => {}
        _ => panic!("expected Full(3)"),
    }
    assert!(matches!(
        w.try_send(Work::Record(4)),
        Err(SendError::Full(_))
    ));
    let stats = w.stats();
    assert_eq!(
        (stats.received, stats.rejected, stats.shed, stats.queued),
        (3, 2, 0, 2)
    );
    gate.send(()).unwrap();
    drained(&w).await;
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![1, 2]);
    let stats = w.cell().stats();
    // block, 1, 2 and the Get: on this single-threaded runtime the actor finished the
    // Get's handler before the caller resumed.
    assert_eq!(stats.handled, 4);
}

#[tokio::test]
async fn wait_policy_send_waits_for_room_while_cast_never_waits() {
    let log = Log::default();
    let (w, _) = bounded("wt", &log, 1, Overflow::Wait).await;
    let gate = block(&w).await;
    w.cast(Work::Record(1)).unwrap();
    assert!(matches!(w.cast(Work::Record(2)), Err(SendError::Full(_))));
    let mut send = Box::pin(w.send(Work::Record(2)));
    assert!(
        poll_once(&mut send).await.is_pending(),
        "send waits while full"
    );
    gate.send(()).unwrap();
    send.await.unwrap();
    drained(&w).await;
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![1, 2]);
    assert_eq!(
        w.stats().rejected,
        1,
        "only the cast counts as rejected; waiting is not"
    );
}

#[tokio::test(start_paused = true)]
async fn send_timeout_gives_the_message_back_when_no_room_came() {
    let log = Log::default();
    let (w, _) = bounded("to", &log, 1, Overflow::Wait).await;
    let _gate = block(&w).await;
    w.cast(Work::Record(1)).unwrap();
    let start = tokio::time::Instant::now();
    match w
        .send_timeout(Work::Record(2), Duration::from_millis(300))
        .await
    {
        Err(SendError::Full(Work::Record(2))) => {}
        _ => panic!("expected Full(2) after the timeout"),
    }
    assert_eq!(start.elapsed(), Duration::from_millis(300));
}

#[tokio::test]
async fn a_sender_waiting_for_room_hears_closed_when_the_actor_stops() {
    let log = Log::default();
    let (w, handle) = bounded("wc", &log, 1, Overflow::Wait).await;
    let gate = block(&w).await;
    w.cast(Work::Record(1)).unwrap();
    let mut send = Box::pin(w.send(Work::Record(2)));
    assert!(poll_once(&mut send).await.is_pending());
    w.stop(None);
    gate.send(()).unwrap();
    handle.await.unwrap();
    assert!(matches!(
        send.await,
        Err(SendError::Closed(Work::Record(2)))
    ));
}

#[tokio::test]
async fn drop_oldest_sheds_the_oldest_queued_message() {
    let log = Log::default();
    let (w, _) = bounded("do", &log, 2, Overflow::DropOldest).await;
    let gate = block(&w).await;
    for n in 1..=4 {
        w.cast(Work::Record(n)).unwrap();
    }
    gate.send(()).unwrap();
    drained(&w).await;
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![3, 4]);
    let stats = w.stats();
    assert_eq!((stats.received, stats.shed, stats.rejected), (6, 2, 0)); // block, 1-4, Get
    assert_eq!(w.cell().dead_letters(), 2, "shed messages are dead letters");
}

#[tokio::test]
async fn drop_newest_sheds_the_arriving_message() {
    let log = Log::default();
    let (w, _) = bounded("dn", &log, 2, Overflow::DropNewest).await;
    let gate = block(&w).await;
    for n in 1..=4 {
        w.cast(Work::Record(n)).unwrap(); // accepted, possibly shed
    }
    gate.send(()).unwrap();
    drained(&w).await;
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![1, 2]);
    assert_eq!(w.stats().shed, 2);
    assert_eq!(w.cell().dead_letters(), 2);
}

#[tokio::test]
async fn unbounded_mailboxes_count_too() {
    let log = Log::default();
    let (w, _) = Actor::spawn(None, Worker::new("ub", &log), ())
        .await
        .unwrap();
    for n in 0..10 {
        w.cast(Work::Record(n)).unwrap();
    }
    w.call(Work::Get, None).await.unwrap();
    let stats = w.stats();
    assert_eq!((stats.received, stats.rejected, stats.shed), (11, 0, 0));
    assert!(stats.handled >= 10);
}

/// `handled` is published when the actor waits for mail, yields (every 128 messages) or
/// ends, so a busy actor's count lags by less than 128 and an idle one's is exact.
#[tokio::test]
async fn handled_lags_a_busy_actor_by_less_than_128_and_is_exact_once_idle() {
    let log = Log::default();
    let (w, _) = Actor::spawn(None, Worker::new("lag", &log), ())
        .await
        .unwrap();
    for n in 0..300 {
        w.cast(Work::Record(n)).unwrap();
    }
    let gate = block(&w).await; // the actor is inside its 301st handler
    let busy = w.stats();
    assert_eq!(busy.received, 301);
    assert!(
        busy.handled <= 300 && 300 - busy.handled < 128,
        "handled {} while 300 were done",
        busy.handled
    );
    gate.send(()).unwrap();
    assert_eq!(w.call(Work::Get, None).await.unwrap().len(), 300);
    // On this single-threaded runtime the actor parked (publishing) before the caller ran.
    assert_eq!(w.stats().handled, 302);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_never_blocks_stop_kill_or_supervision_events() {
    for signal in ["stop", "kill", "event"] {
        let log = Log::default();
        let sup = TestProbe::<()>::spawn().await;
        let (w, handle) = Actor::spawn_with(
            SpawnOptions::new()
                .capacity(4, Overflow::Wait)
                .supervisor(sup.cell()),
            Worker::new("fl", &log),
            (),
        )
        .await
        .unwrap();
        sup.expect_started().await;
        let gate = block(&w).await;
        // Fill the mailbox and leave senders blocked on it.
        let senders: Vec<_> = (0..8)
            .map(|i| {
                let w = w.clone();
                tokio::spawn(async move { w.send(Work::Record(i)).await.is_ok() })
            })
            .collect();
        while w.stats().queued < 4 {
            tokio::task::yield_now().await;
        }
        match signal {
            "stop" => w.stop(None),
            "kill" => w.kill(),
            _ => {
                // A failing child of the flooded actor: its event must get through.
                let (child, _) = Actor::spawn_linked(None, Worker::new("flc", &log), (), w.cell())
                    .await
                    .unwrap();
                child.cast(Work::Fail("child broke".into())).unwrap();
                child.wait(None).await.unwrap();
            }
        }
        let _ = gate.send(()); // after a kill the blocked handler is already gone
        handle.await.unwrap();
        assert_eq!(w.status(), ActorStatus::Stopped, "{signal}");
        if signal == "event" {
            // Default supervision: the failed child failed the flooded actor, ahead of its
            // queued messages.
            sup.expect_failed().await;
        }
        for s in senders {
            s.await.unwrap(); // every blocked sender was released (with Ok or Closed)
        }
    }
}

#[tokio::test]
async fn the_dead_letter_hook_hears_shed_and_stopped_messages() {
    type Seen = Vec<(ensemble::ActorId, u64, &'static str)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let log = Log::default();
    let (w, handle) = bounded("hk", &log, 1, Overflow::DropNewest).await;
    let id = w.id();
    let seen2 = seen.clone();
    node::set_dead_letter_hook(move |d| {
        if d.actor == id {
            seen2.lock().unwrap().push((d.actor, d.count, d.reason));
        }
    });
    let gate = block(&w).await;
    w.cast(Work::Record(1)).unwrap();
    w.cast(Work::Record(2)).unwrap(); // shed
    w.stop(None);
    gate.send(()).unwrap();
    handle.await.unwrap(); // Record(1) is left queued: a dead letter
    node::clear_dead_letter_hook();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(id, 1, "shed: mailbox full"), (id, 1, "actor stopped")]
    );
}

#[tokio::test]
async fn supervised_children_get_the_mailbox_of_their_spec() {
    use ensemble::supervisor::{ChildSpec, Supervisor, SupervisorFlags, SupervisorSpec};
    let log = Log::default();
    let log2 = log.clone();
    let spec = SupervisorSpec::new(SupervisorFlags::default()).child(
        ChildSpec::new("bounded", move || (Worker::new("sb", &log2), ()))
            .mailbox(MailboxConfig::bounded(1, Overflow::Reject)),
    );
    let (sup, _) = Supervisor::start(None, spec).await.unwrap();
    let child = sup.which_children().await.unwrap()[0]
        .cell
        .clone()
        .unwrap()
        .into_ref::<Work>()
        .unwrap();
    let _gate = block(&child).await;
    child.cast(Work::Record(1)).unwrap();
    assert!(matches!(
        child.cast(Work::Record(2)),
        Err(SendError::Full(_))
    ));
}

#[tokio::test]
async fn call_waits_for_room_in_a_wait_mailbox() {
    let log = Log::default();
    let (w, _) = bounded("cw", &log, 1, Overflow::Wait).await;
    let gate = block(&w).await;
    w.cast(Work::Record(1)).unwrap();
    let mut call = Box::pin(w.call(Work::Get, None));
    assert!(
        poll_once(&mut call).await.is_pending(),
        "the call waits for room"
    );
    gate.send(()).unwrap();
    assert_eq!(call.await.unwrap(), vec![1]);
}

/// Records numbers; on `Barge` casts a number to itself at once, as a sender arriving
/// just after a slot was freed would, and records whether the mailbox took it.
struct Recorder(Arc<Mutex<Vec<i32>>>);

enum RecMsg {
    Gate(tokio::sync::oneshot::Receiver<()>),
    Barge,
    Record(i32),
}

impl Actor for Recorder {
    type Msg = RecMsg;
    type State = ();
    type Arguments = ();
    async fn pre_start(
        &self,
        _: ensemble::ActorRef<RecMsg>,
        _: (),
    ) -> Result<(), ensemble::ActorProcessingErr> {
        Ok(())
    }
    async fn handle(
        &self,
        myself: ensemble::ActorRef<RecMsg>,
        msg: RecMsg,
        _: &mut (),
    ) -> Result<(), ensemble::ActorProcessingErr> {
        match msg {
            RecMsg::Gate(gate) => {
                let _ = gate.await;
            }
            RecMsg::Barge => {
                let taken = myself.cast(RecMsg::Record(2)).is_ok();
                self.0.lock().unwrap().push(if taken { 0 } else { -1 });
            }
            RecMsg::Record(n) => self.0.lock().unwrap().push(n),
        }
        Ok(())
    }
}

/// A slot freed while a sender waits for room goes to that sender: one arriving later
/// (here, the very handler that freed it) finds the mailbox full instead of taking it.
#[tokio::test]
async fn a_freed_slot_goes_to_the_waiting_sender_not_to_a_later_one() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (w, _) = Actor::spawn_with(
        SpawnOptions::new().capacity(1, Overflow::Wait),
        Recorder(seen.clone()),
        (),
    )
    .await
    .unwrap();
    let (open, gate) = tokio::sync::oneshot::channel();
    w.cast(RecMsg::Gate(gate)).unwrap();
    tokio::task::yield_now().await; // the actor is now inside the gate handler
    w.cast(RecMsg::Barge).unwrap(); // the one slot
    let waiter = {
        let w = w.clone();
        tokio::spawn(async move { w.send(RecMsg::Record(1)).await.is_ok() })
    };
    tokio::task::yield_now().await; // the waiter found the mailbox full and waits
    open.send(()).unwrap();
    assert!(waiter.await.unwrap());
    while w.stats().queued > 0 || w.stats().handled < 3 {
        tokio::task::yield_now().await;
    }
    // Barge found its slot held for the waiter (-1); the waiter's 1 went in.
    assert_eq!(*seen.lock().unwrap(), vec![-1, 1]);
}

/// Many senders on two threads through a small `Wait` mailbox, some of them giving up
/// with very short timeouts (so waiters keep leaving): every accepted message arrives,
/// and nobody is left waiting next to a free or held slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_senders_that_leave_never_strand_the_others() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (w, _) = Actor::spawn_with(
        SpawnOptions::new().capacity(2, Overflow::Wait),
        Recorder(seen.clone()),
        (),
    )
    .await
    .unwrap();
    let senders: Vec<_> = (0..8)
        .map(|s| {
            let w = w.clone();
            tokio::spawn(async move {
                let mut accepted = 0usize;
                for _ in 0..2_000 {
                    let msg = RecMsg::Record(s);
                    let ok = if s % 2 == 0 {
                        w.send(msg).await.is_ok()
                    } else {
                        w.send_timeout(msg, Duration::from_micros(1)).await.is_ok()
                    };
                    accepted += usize::from(ok);
                }
                accepted
            })
        })
        .collect();
    let all = async {
        let mut accepted = 0;
        for s in senders {
            accepted += s.await.unwrap();
        }
        accepted
    };
    // A guard against a hang (a stranded waiter), not a wait for progress.
    let accepted = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("a waiting sender was stranded");
    assert!(accepted >= 4 * 2_000, "every patient send is accepted");
    while w.stats().queued > 0 || w.stats().handled < accepted as u64 {
        tokio::task::yield_now().await;
    }
    assert_eq!(seen.lock().unwrap().len(), accepted);
}

/// SEMANTICS 8.11: a `send` on a `Wait` mailbox spends tokio's cooperative budget, as
/// tokio's bounded `Sender::send` does, so a task sending in a loop gives its thread back
/// even when it never has to wait (here the mailbox has room for every message).
#[tokio::test(flavor = "current_thread")]
async fn a_sender_that_never_waits_still_yields_to_its_thread() {
    let log = Log::default();
    let (w, _) = bounded("coop", &log, 10_000, Overflow::Wait).await;
    let other_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = other_ran.clone();
    tokio::spawn(async move { flag.store(true, std::sync::atomic::Ordering::SeqCst) });
    let mut sent_before_the_other_task_ran = None;
    for n in 0..1_000u32 {
        w.send(Work::Record(n)).await.unwrap();
        if sent_before_the_other_task_ran.is_none()
            && other_ran.load(std::sync::atomic::Ordering::SeqCst)
        {
            sent_before_the_other_task_ran = Some(n);
        }
    }
    let sent = sent_before_the_other_task_ran.expect("the sender never yielded its thread");
    assert!(sent <= 128, "the sender kept its thread for {sent} sends");
    // Nothing was lost on the way.
    drained(&w).await;
    assert_eq!(w.call(Work::Get, None).await.unwrap().len(), 1_000);
}
