//! Streams into actors: polled only when the mailbox has room, end notification, stop
//! with the actor.

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};

use common::{Log, Work, Worker, block};
use ensemble::{Actor, Overflow, SpawnOptions};

/// Yields 1..=limit, counting how many items were taken from it.
struct Counted {
    next: u32,
    limit: u32,
    polled: Arc<AtomicU32>,
}

impl futures_core::Stream for Counted {
    type Item = u32;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<u32>> {
        if self.next >= self.limit {
            return Poll::Ready(None);
        }
        self.next += 1;
        self.polled.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Some(self.next))
    }
}

async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn the_stream_is_polled_only_when_the_mailbox_has_room_and_the_actor_hears_its_end() {
    let log = Log::default();
    let (w, _) = Actor::spawn_with(
        SpawnOptions::new().capacity(2, Overflow::Wait),
        Worker::new("st", &log),
        (),
    )
    .await
    .unwrap();
    let gate = block(&w).await;
    let polled = Arc::new(AtomicU32::new(0));
    let stream = Counted {
        next: 0,
        limit: 10,
        polled: polled.clone(),
    };
    let feed = w.attach_stream(stream, Work::Record, Work::Record(999));
    settle().await;
    // The actor is blocked: the stream was polled for exactly as many items as the
    // mailbox holds, and then left alone.
    assert_eq!(polled.load(Ordering::SeqCst), 2);
    assert_eq!(w.stats().queued, 2);
    gate.send(()).unwrap();
    while !feed.is_finished() {
        settle().await;
    }
    assert_eq!(polled.load(Ordering::SeqCst), 10);
    let mut want: Vec<u32> = (1..=10).collect();
    want.push(999); // the end message
    assert_eq!(w.call(Work::Get, None).await.unwrap(), want);
}

#[tokio::test]
async fn the_feed_stops_when_the_actor_ends() {
    let log = Log::default();
    let (w, handle) = Actor::spawn_with(
        SpawnOptions::new().capacity(1, Overflow::Wait),
        Worker::new("se", &log),
        (),
    )
    .await
    .unwrap();
    let _gate = block(&w).await;
    let polled = Arc::new(AtomicU32::new(0));
    let feed = w.attach_stream(
        Counted {
            next: 0,
            limit: u32::MAX,
            polled: polled.clone(),
        },
        Work::Record,
        Work::Record(0),
    );
    settle().await;
    w.kill();
    handle.await.unwrap();
    settle().await;
    assert!(feed.is_finished());
    assert!(polled.load(Ordering::SeqCst) <= 2);
}
