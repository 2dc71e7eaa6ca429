//! The test hooks (`ensemble::testing`, feature `test-util`): inspect is ordered with
//! the messages, suspend holds messages but not signals, message hooks see every message
//! and their directives drop, delay, fail, panic or stall it. SEMANTICS section 19.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker};
use ensemble::testing::{Directive, InspectError};
use ensemble::{Actor, ActorStatus, ExitReason};
use ensemble_test::{TestProbe, within};

const SEC: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn inspect_waits_behind_queued_messages_and_changes_state() {
    let (w, _) = Actor::spawn(None, Worker::new("i", &Log::default()), ())
        .await
        .unwrap();
    for n in 0..100 {
        w.cast(Work::Record(n)).unwrap();
    }
    // Queued before the inspection: all seen.
    let seen = w.inspect(|seen: &mut Vec<u32>| seen.len()).await.unwrap();
    assert_eq!(seen, 100);
    // It may change the state, too.
    w.inspect(|seen: &mut Vec<u32>| seen.clear()).await.unwrap();
    w.cast(Work::Record(7)).unwrap();
    assert_eq!(
        w.inspect(|seen: &mut Vec<u32>| seen.clone()).await.unwrap(),
        [7]
    );
}

#[tokio::test(start_paused = true)]
async fn inspect_with_the_wrong_type_or_after_the_end_is_an_error() {
    let (w, handle) = Actor::spawn(None, Worker::new("i", &Log::default()), ())
        .await
        .unwrap();
    match w.inspect(|_: &mut String| ()).await {
        Err(InspectError::StateType { expected, actual }) => {
            assert!(expected.contains("String"), "{expected}");
            assert!(actual.contains("Vec<u32>"), "{actual}");
        }
        other => panic!("expected a type error, got {other:?}"),
    }
    w.stop(None);
    handle.await.unwrap();
    assert_eq!(
        w.inspect(|_: &mut Vec<u32>| ()).await,
        Err(InspectError::Ended)
    );
    assert_eq!(w.suspend().await, Err(InspectError::Ended));
    w.resume(); // a no-op on an ended actor
}

#[tokio::test(start_paused = true)]
async fn a_panicking_inspection_panics_the_caller_not_the_actor() {
    let (w, _) = Actor::spawn(None, Worker::new("i", &Log::default()), ())
        .await
        .unwrap();
    let w2 = w.clone();
    let joined = tokio::spawn(async move {
        w2.inspect(|_: &mut Vec<u32>| panic!("boom in a test"))
            .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(w.status(), ActorStatus::Running);
    w.cast(Work::Record(1)).unwrap();
    assert_eq!(w.inspect(|s: &mut Vec<u32>| s.len()).await.unwrap(), 1);
}

#[tokio::test(start_paused = true)]
async fn suspend_holds_messages_and_serves_inspect_stop_and_kill() {
    let (w, handle) = Actor::spawn(None, Worker::new("s", &Log::default()), ())
        .await
        .unwrap();
    w.cast(Work::Record(1)).unwrap();
    w.suspend().await.unwrap();
    // The message before the suspension was handled; those after wait.
    for n in 2..5 {
        w.cast(Work::Record(n)).unwrap();
    }
    assert_eq!(w.inspect(|s: &mut Vec<u32>| s.clone()).await.unwrap(), [1]);
    assert_eq!(w.stats().queued, 3);
    w.suspend().await.unwrap(); // idempotent
    w.resume();
    assert_eq!(
        w.inspect(|s: &mut Vec<u32>| s.clone()).await.unwrap(),
        [1, 2, 3, 4]
    );

    // Stop is a signal: served while suspended; the waiting messages become dead letters.
    w.suspend().await.unwrap();
    w.cast(Work::Record(5)).unwrap();
    w.stop(Some("done".into()));
    within(Duration::ZERO..SEC, handle).await.unwrap();
    assert_eq!(w.cell().dead_letters(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hook_sees_every_message_and_can_drop_some() {
    let (w, _) = Actor::spawn(None, Worker::new("h", &Log::default()), ())
        .await
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    w.set_message_hook(move |msg: &Work| match msg {
        Work::Record(n) => {
            sink.lock().unwrap().push(*n);
            if n % 2 == 0 {
                Directive::Drop
            } else {
                Directive::Handle
            }
        }
        _ => Directive::Handle,
    });
    for n in 0..6 {
        w.cast(Work::Record(n)).unwrap();
    }
    assert_eq!(
        w.inspect(|s: &mut Vec<u32>| s.clone()).await.unwrap(),
        [1, 3, 5]
    );
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(
        w.cell().dead_letters(),
        3,
        "dropped messages are dead letters"
    );
    w.clear_message_hook();
    w.cast(Work::Record(6)).unwrap();
    assert_eq!(
        w.inspect(|s: &mut Vec<u32>| s.clone()).await.unwrap(),
        [1, 3, 5, 6]
    );
    assert_eq!(seen.lock().unwrap().len(), 6, "no hook after clear");
}

#[tokio::test(start_paused = true)]
async fn a_delay_runs_on_tokios_clock() {
    let (w, _) = Actor::spawn(None, Worker::new("d", &Log::default()), ())
        .await
        .unwrap();
    w.set_message_hook(|_: &Work| Directive::Delay(Duration::from_secs(30)));
    w.cast(Work::Record(1)).unwrap();
    w.cast(Work::Record(2)).unwrap();
    let ms = Duration::from_millis;
    let seen = within(
        ms(60_000)..ms(60_001),
        w.inspect(|s: &mut Vec<u32>| s.clone()),
    )
    .await;
    assert_eq!(seen.unwrap(), [1, 2]);
}

#[tokio::test(start_paused = true)]
async fn fail_and_panic_directives_fail_the_actor_into_its_supervisor() {
    let sup = TestProbe::<()>::spawn().await;
    for directive in [
        Directive::Fail("told to".into()),
        Directive::Panic("told to panic".into()),
    ] {
        let (w, _) = Actor::spawn_linked(None, Worker::new("f", &Log::default()), (), sup.cell())
            .await
            .unwrap();
        sup.expect_started().await;
        w.set_message_hook(move |_: &Work| directive.clone());
        w.cast(Work::Record(1)).unwrap();
        let (child, error) = sup.expect_failed().await;
        assert_eq!(child.id(), w.id());
        assert!(error.contains("told to"), "{error}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_actor_ends_only_by_kill() {
    let watcher = TestProbe::<()>::spawn().await;
    let (w, _) = Actor::spawn(None, Worker::new("st", &Log::default()), ())
        .await
        .unwrap();
    watcher.watch(&w.cell());
    let (took, mut taken) = tokio::sync::mpsc::unbounded_channel();
    w.set_message_hook(move |_: &Work| {
        let _ = took.send(());
        Directive::Stall
    });
    w.cast(Work::Record(1)).unwrap();
    taken.recv().await.unwrap();
    w.stop(None);
    // The stop waits behind the stalled handler, as behind any handler that never returns.
    watcher.expect_no_event(Duration::from_secs(3600)).await;
    w.kill();
    assert_eq!(watcher.expect_down().await, (w.id(), ExitReason::Killed));
}
