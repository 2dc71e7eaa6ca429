//! Pub/sub output ports: mapping, slow-subscriber policies, counted drops, removal.

mod common;

use common::{Log, Work, Worker, block};
use ensemble::port::{OutputPort, SlowPolicy};
use ensemble::{Actor, Overflow, SpawnOptions};

async fn worker(log: &Log, label: &str, options: SpawnOptions) -> ensemble::ActorRef<Work> {
    Actor::spawn_with(options, Worker::new(label, log), ())
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn published_values_reach_every_subscriber_through_its_map() {
    let log = Log::default();
    let a = worker(&log, "pa", SpawnOptions::new()).await;
    let b = worker(&log, "pb", SpawnOptions::new()).await;
    let port: OutputPort<u32> = OutputPort::new();
    let sa = port.subscribe_with(&a, |n| Some(Work::Record(n)), SlowPolicy::DropAndCount);
    // b only wants even values.
    let sb = port.subscribe_with(
        &b,
        |n| (n % 2 == 0).then_some(Work::Record(n * 10)),
        SlowPolicy::DropAndCount,
    );
    for n in 1..=4 {
        port.publish(n);
    }
    assert_eq!(a.call(Work::Get, None).await.unwrap(), vec![1, 2, 3, 4]);
    assert_eq!(b.call(Work::Get, None).await.unwrap(), vec![20, 40]);
    assert_eq!((sa.delivered(), sb.delivered()), (4, 2));
    assert_eq!(port.subscribers(), 2);
}

#[tokio::test]
async fn a_slow_subscriber_misses_values_but_every_miss_is_counted() {
    let log = Log::default();
    let slow = worker(
        &log,
        "slow",
        SpawnOptions::new().capacity(1, Overflow::Reject),
    )
    .await;
    let fast = worker(&log, "fast", SpawnOptions::new()).await;
    let port: OutputPort<u32> = OutputPort::new();
    let s_slow = port.subscribe_with(&slow, |n| Some(Work::Record(n)), SlowPolicy::DropAndCount);
    let s_fast = port.subscribe_with(&fast, |n| Some(Work::Record(n)), SlowPolicy::DropAndCount);
    let gate = block(&slow).await;
    for n in 1..=5 {
        port.publish(n);
    }
    assert_eq!((s_slow.delivered(), s_slow.dropped()), (1, 4));
    assert_eq!(
        (s_fast.delivered(), s_fast.dropped()),
        (5, 0),
        "a slow subscriber never holds back the others"
    );
    gate.send(()).unwrap();
}

#[tokio::test]
async fn backpressure_waits_for_room_and_loses_nothing() {
    let log = Log::default();
    let slow = worker(&log, "bp", SpawnOptions::new().capacity(1, Overflow::Wait)).await;
    let port: OutputPort<u32> = OutputPort::new();
    let sub = port.subscribe_with(&slow, |n| Some(Work::Record(n)), SlowPolicy::Backpressure);
    let publisher = {
        let port = port.clone();
        tokio::spawn(async move {
            for n in 1..=20 {
                port.publish_wait(n).await;
            }
        })
    };
    publisher.await.unwrap();
    assert_eq!((sub.delivered(), sub.dropped()), (20, 0));
    assert_eq!(
        slow.call(Work::Get, None).await.unwrap(),
        (1..=20).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn ended_and_unsubscribed_subscribers_are_removed() {
    let log = Log::default();
    let a = worker(&log, "ga", SpawnOptions::new()).await;
    let b = worker(&log, "gb", SpawnOptions::new()).await;
    let port: OutputPort<u32> = OutputPort::new();
    port.subscribe_with(&a, |n| Some(Work::Record(n)), SlowPolicy::DropAndCount);
    let sb = port.subscribe_with(&b, |n| Some(Work::Record(n)), SlowPolicy::DropAndCount);
    a.stop_and_wait(None, None).await.unwrap();
    assert_eq!(port.publish(1), 1);
    assert_eq!(port.subscribers(), 1, "the ended subscriber was removed");
    sb.unsubscribe();
    assert_eq!(port.publish(2), 0);
    assert_eq!(port.subscribers(), 0);
    assert_eq!(b.call(Work::Get, None).await.unwrap(), vec![1]);
}
