//! Every duration and count a user passes to the supervisor, mailboxes, timers and pools,
//! at 0, 1 and its maximum: each has a documented meaning, and none panics or hangs.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker, hang};
use ensemble::pool::{Pool, PoolSpec, Routing};
use ensemble::supervisor::{
    Backoff, ChildSpec, IntensityExceeded, Supervisor, SupervisorFlags, SupervisorMsg,
    SupervisorSpec,
};
use ensemble::{
    Actor, ActorRef, ActorStatus, CallError, MailboxConfig, Overflow, SendError, Shutdown,
    SpawnError, SpawnOptions, SupervisionEvent,
};
use ensemble_test::TestProbe;

fn flaky(log: &Log) -> ChildSpec {
    let log = log.clone();
    ChildSpec::new("flaky", move || (Worker::new("flaky", &log), ()))
}

/// Fails the supervisor's only child and waits until that incarnation has ended.
async fn fail_child(sup: &ActorRef<SupervisorMsg>) {
    let cell = sup.which_children().await.unwrap()[0]
        .cell
        .clone()
        .expect("child running");
    let child = cell.clone().into_ref::<Work>().unwrap();
    child.cast(Work::Fail("boom".into())).unwrap();
    cell.wait(None).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn intensity_zero_fails_on_the_first_restart_whatever_the_period() {
    for period in [
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_secs(5),
        Duration::MAX,
    ] {
        let log = Log::default();
        let top = TestProbe::<()>::spawn().await;
        let flags = SupervisorFlags::default().intensity(0, period);
        let spec = SupervisorSpec::new(flags).child(flaky(&log));
        let (sup, handle) = Supervisor::start_linked(None, spec, top.cell())
            .await
            .unwrap();
        top.expect_started().await;
        fail_child(&sup).await;
        // The child's end reached the supervisor's event lane before `wait` returned, and
        // events overtake this request: a supervisor that restarted would answer it.
        assert!(
            sup.which_children().await.is_err(),
            "period {period:?}: the child was restarted"
        );
        handle.await.unwrap();
        match top.expect_event(Duration::from_secs(1)).await {
            SupervisionEvent::ActorFailed(_, err) => {
                let e = err.downcast_ref::<IntensityExceeded>();
                assert_eq!(e.map(|e| e.max_restarts), Some(0), "period {period:?}");
            }
            other => panic!("period {period:?}: unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_zero_period_with_restarts_allowed_is_refused_at_start() {
    let log = Log::default();
    let flags = SupervisorFlags::default().intensity(1, Duration::ZERO);
    assert!(flags.check().is_err());
    let spec = SupervisorSpec::new(flags).child(flaky(&log));
    match Supervisor::start(None, spec).await {
        Err(SpawnError::StartupFailed(e)) => {
            let text = e.to_string();
            assert!(text.contains("period must be above zero"), "{text}");
        }
        other => panic!("expected StartupFailed, got {:?}", other.map(|_| ())),
    }
    assert!(log.snapshot().is_empty(), "no child was started");
}

#[tokio::test(start_paused = true)]
async fn restarts_in_one_instant_all_count() {
    // Paused time does not move here, so every restart happens at the same instant: a
    // 1 ns period still sees all of them.
    let log = Log::default();
    let top = TestProbe::<()>::spawn().await;
    let flags = SupervisorFlags::default().intensity(2, Duration::from_nanos(1));
    let spec = SupervisorSpec::new(flags).child(flaky(&log));
    let (sup, handle) = Supervisor::start_linked(None, spec, top.cell())
        .await
        .unwrap();
    top.expect_started().await;
    for _ in 0..3 {
        fail_child(&sup).await;
    }
    handle.await.unwrap();
    top.expect_failed().await;
    assert_eq!(
        log.snapshot()
            .iter()
            .filter(|l| *l == "flaky:pre_start")
            .count(),
        3
    );
}

#[tokio::test]
async fn the_largest_intensity_never_trips() {
    let log = Log::default();
    let flags = SupervisorFlags::default().intensity(u32::MAX, Duration::MAX);
    let (sup, _) = Supervisor::start(None, SupervisorSpec::new(flags).child(flaky(&log)))
        .await
        .unwrap();
    for _ in 0..50 {
        fail_child(&sup).await;
    }
    assert_eq!(sup.which_children().await.unwrap()[0].restarts, 50);
    assert_eq!(sup.status(), ActorStatus::Running);
}

#[tokio::test(start_paused = true)]
async fn backoff_at_zero_restarts_at_once_and_at_its_maximum_never() {
    let log = Log::default();
    let flags = SupervisorFlags::default()
        .intensity(10, Duration::from_secs(1))
        .backoff(Backoff::new(Duration::ZERO, Duration::ZERO).reset_after(Duration::ZERO));
    let (sup, _) = Supervisor::start(None, SupervisorSpec::new(flags).child(flaky(&log)))
        .await
        .unwrap();
    fail_child(&sup).await;
    let children = sup.which_children().await.unwrap();
    assert!(children[0].cell.is_some(), "zero backoff restarts at once");

    let flags = SupervisorFlags::default()
        .backoff(Backoff::new(Duration::MAX, Duration::MAX).reset_after(Duration::MAX));
    let (sup, handle) = Supervisor::start(None, SupervisorSpec::new(flags).child(flaky(&log)))
        .await
        .unwrap();
    fail_child(&sup).await;
    tokio::time::advance(Duration::from_secs(365 * 24 * 3600)).await;
    let children = sup.which_children().await.unwrap();
    assert!(children[0].cell.is_none(), "the restart waits 'forever'");
    sup.stop(None);
    handle.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_timeouts_of_zero_and_max() {
    let log = Log::default();
    let (sup, sup_handle) =
        Supervisor::start(None, SupervisorSpec::new(SupervisorFlags::default()))
            .await
            .unwrap();
    // Timeout(0): asked to stop, then killed at once if it has not ended by then.
    // Timeout(MAX): asked to stop, and waited for as long as it takes.
    let spec_zero = ChildSpec::new("zero", {
        let log = log.clone();
        move || (Worker::new("zero", &log), ())
    })
    .shutdown(Shutdown::Timeout(Duration::ZERO));
    let spec_max = ChildSpec::new("max", {
        let log = log.clone();
        move || (Worker::new("max", &log), ())
    })
    .shutdown(Shutdown::Timeout(Duration::MAX));
    sup.start_child(spec_zero).await.unwrap();
    sup.start_child(spec_max).await.unwrap();
    let zero = sup.which_children().await.unwrap()[0].cell.clone().unwrap();
    hang(&zero.clone().into_ref::<Work>().unwrap()).await;
    sup.terminate_child("zero").await.unwrap(); // killed: it ignores stop
    assert!(!log.contains("zero:post_stop"));
    sup.terminate_child("max").await.unwrap(); // stops promptly: post_stop ran
    assert!(log.contains("max:post_stop"));
    sup.stop(None);
    sup_handle.await.unwrap();
}

#[tokio::test]
async fn mailbox_capacity_zero_is_one_and_max_is_unbounded_in_practice() {
    assert_eq!(
        MailboxConfig::bounded(0, Overflow::Reject).capacity(),
        Some(1)
    );
    let log = Log::default();
    let options = SpawnOptions::new().capacity(0, Overflow::Reject);
    let (one, _) = Actor::spawn_with(options, Worker::new("one", &log), ())
        .await
        .unwrap();
    let gate = common::block(&one).await;
    one.cast(Work::Record(1)).unwrap();
    assert!(matches!(one.cast(Work::Record(2)), Err(SendError::Full(_))));
    drop(gate);

    let options = SpawnOptions::new().capacity(usize::MAX, Overflow::Wait);
    let (huge, _) = Actor::spawn_with(options, Worker::new("huge", &log), ())
        .await
        .unwrap();
    for i in 0..10_000 {
        huge.cast(Work::Record(i)).unwrap();
    }
    assert_eq!(huge.call(Work::Get, None).await.unwrap().len(), 10_000);
}

#[tokio::test(start_paused = true)]
async fn zero_timeouts_give_up_at_once_without_losing_the_message() {
    let log = Log::default();
    let options = SpawnOptions::new().capacity(1, Overflow::Wait);
    let (w, _) = Actor::spawn_with(options, Worker::new("zt", &log), ())
        .await
        .unwrap();
    // Room: a zero timeout still sends.
    w.send_timeout(Work::Record(1), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(w.call(Work::Get, None).await.unwrap(), [1]);
    let gate = common::block(&w).await;
    w.cast(Work::Record(2)).unwrap(); // now full
    match w.send_timeout(Work::Record(3), Duration::ZERO).await {
        Err(SendError::Full(Work::Record(3))) => {}
        other => panic!("expected Full(3), got {other:?}"),
    }
    // A call with a zero timeout times out (it may still run later, like any timed-out
    // call) and never panics.
    match w.call(Work::Get, Some(Duration::ZERO)).await {
        Err(CallError::Timeout) | Err(CallError::Send(SendError::Full(_))) => {}
        other => panic!("unexpected {other:?}"),
    }
    // Waiting for an end with a zero timeout reports the timeout; the stop still lands.
    drop(gate);
    assert!(w.stop_and_wait(None, Some(Duration::ZERO)).await.is_err());
    w.wait(None).await.unwrap();
    assert_eq!(w.status(), ActorStatus::Stopped);
}

#[tokio::test(start_paused = true)]
async fn timers_at_zero_fire_at_once_and_an_interval_of_zero_ticks_every_millisecond() {
    let log = Log::default();
    let (w, _) = Actor::spawn(None, Worker::new("tz", &log), ())
        .await
        .unwrap();
    w.send_after(Duration::ZERO, Work::Record(1));
    let ticks = w.send_interval(Duration::ZERO, || Work::Record(2));
    tokio::time::sleep(Duration::from_millis(10)).await;
    ticks.cancel();
    let seen = w.call(Work::Get, None).await.unwrap();
    assert_eq!(seen[0], 1);
    let n = seen.iter().filter(|&&x| x == 2).count();
    assert!(
        (9..=10).contains(&n),
        "{n} ticks in 10 ms at the 1 ms floor"
    );

    let (stopped, h1) = Actor::spawn(None, Worker::new("ea", &log), ())
        .await
        .unwrap();
    stopped.exit_after(Duration::ZERO);
    h1.await.unwrap();
    assert!(log.contains("ea:post_stop"));
    let (killed, h2) = Actor::spawn(None, Worker::new("ka", &log), ())
        .await
        .unwrap();
    killed.kill_after(Duration::ZERO);
    h2.await.unwrap();
    assert!(!log.contains("ka:post_stop"));
}

#[tokio::test]
async fn pool_sizes_and_capacities_of_zero_mean_one() {
    let log = Log::default();
    let spec = PoolSpec::new(0, Routing::RoundRobin, {
        let log = log.clone();
        move || (Worker::new("p", &log), ())
    })
    .worker_capacity(0);
    let (pool, handle) = Pool::start(SpawnOptions::new(), spec).await.unwrap();
    assert_eq!(pool.workers().await.unwrap().len(), 1);
    for i in 0..20 {
        pool.submit_wait(Work::Record(i)).await.unwrap();
    }
    pool.resize(0).await.unwrap();
    assert_eq!(pool.workers().await.unwrap().len(), 1);
    pool.drain().unwrap();
    handle.await.unwrap();
    assert_eq!(
        log.snapshot()
            .iter()
            .filter(|l| l.starts_with("p:") && !l.contains("_"))
            .count(),
        20
    );
}
