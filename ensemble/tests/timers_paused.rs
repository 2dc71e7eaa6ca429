//! Timers, on paused time: exact delays, cancellation, intervals that end with their
//! actor, timed stops and kills.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker};
use ensemble::{Actor, ActorStatus};
use tokio::time::{Instant, advance};

/// Lets spawned timer tasks and the actor run at the current (paused) instant.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn send_after_delivers_after_exactly_the_delay() {
    let log = Log::default();
    let (w, _) = Actor::spawn(None, Worker::new("sa", &log), ())
        .await
        .unwrap();
    let _timer = w.send_after(Duration::from_millis(250), Work::Record(7));
    advance(Duration::from_millis(249)).await;
    settle().await;
    assert!(w.call(Work::Get, None).await.unwrap().is_empty());
    advance(Duration::from_millis(1)).await;
    settle().await;
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![7]);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_timer_never_sends_and_dropping_the_handle_does_not_cancel() {
    let log = Log::default();
    let (w, _) = Actor::spawn(None, Worker::new("sc", &log), ())
        .await
        .unwrap();
    let cancelled = w.send_after(Duration::from_secs(1), Work::Record(1));
    drop(w.send_after(Duration::from_secs(1), Work::Record(2)));
    cancelled.cancel();
    advance(Duration::from_secs(2)).await;
    settle().await;
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![2]);
    assert!(cancelled.is_finished());
}

#[tokio::test(start_paused = true)]
async fn send_interval_ticks_every_period_and_ends_with_the_actor() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("si", &log), ())
        .await
        .unwrap();
    let mut n = 0;
    let timer = w.send_interval(Duration::from_millis(100), move || {
        n += 1;
        Work::Record(n)
    });
    let start = Instant::now();
    for _ in 0..5 {
        advance(Duration::from_millis(100)).await;
        settle().await;
    }
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![1, 2, 3, 4, 5]);
    w.stop(None);
    handle.await.unwrap();
    settle().await;
    assert!(timer.is_finished(), "the interval ends with its actor");
}

#[tokio::test(start_paused = true)]
async fn exit_after_stops_and_kill_after_kills_at_the_given_time() {
    let log = Log::default();
    let (a, ha) = Actor::spawn(None, Worker::new("ea", &log), ())
        .await
        .unwrap();
    let (b, hb) = Actor::spawn(None, Worker::new("ka", &log), ())
        .await
        .unwrap();
    let _s = a.stop_after(Duration::from_secs(3), Some("time is up".into()));
    let _k = b.kill_after(Duration::from_secs(5));
    let start = Instant::now();
    ha.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert!(log.contains("ea:post_stop"));
    assert_eq!(b.status(), ActorStatus::Running);
    hb.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert!(!log.contains("ka:post_stop"), "killed: no post_stop");
}

#[tokio::test(start_paused = true)]
async fn a_timer_whose_actor_ends_first_counts_a_dead_letter_and_ends() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("de", &log), ())
        .await
        .unwrap();
    let timer = w.send_after(Duration::from_secs(10), Work::Record(1));
    w.stop(None);
    handle.await.unwrap();
    settle().await;
    assert!(
        timer.is_finished(),
        "the timer ended with its actor, not after 10 s"
    );
    assert_eq!(w.cell().dead_letters(), 1);
}

#[tokio::test(start_paused = true)]
async fn huge_delays_and_timeouts_never_panic() {
    let log = Log::default();
    let (w, _) = Actor::spawn(None, Worker::new("hd", &log), ())
        .await
        .unwrap();
    let timer = w.send_after(Duration::MAX, Work::Record(1));
    let interval = w.send_interval(Duration::MAX, || Work::Record(2));
    assert_eq!(
        w.call(Work::Get, Some(Duration::MAX)).await.unwrap(),
        Vec::<u32>::new()
    );
    w.send_timeout(Work::Record(3), Duration::MAX)
        .await
        .unwrap();
    timer.cancel();
    interval.cancel();
}
