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

/// A stream feed and senders waiting for room share a small `Wait` mailbox on two
/// threads, some senders giving up after very short timeouts: the feed delivers every
/// item and its end, every accepted send arrives, and nobody is left asleep next to room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_feed_and_waiting_senders_never_strand_each_other() {
    let log = Log::default();
    let (w, _) = Actor::spawn_with(
        SpawnOptions::new().capacity(2, Overflow::Wait),
        Worker::new("mix", &log),
        (),
    )
    .await
    .unwrap();
    let polled = Arc::new(AtomicU32::new(0));
    let stream = Counted {
        next: 0,
        limit: 3_000,
        polled: polled.clone(),
    };
    let feed = w.attach_stream(stream, |n| Work::Record(n + 10_000), Work::Record(999));
    let senders: Vec<_> = (0..4u32)
        .map(|s| {
            let w = w.clone();
            tokio::spawn(async move {
                let mut accepted = 0usize;
                for i in 0..1_000 {
                    let msg = Work::Record(s * 1_000 + i);
                    let ok = if s % 2 == 0 {
                        w.send(msg).await.is_ok()
                    } else {
                        w.send_timeout(msg, std::time::Duration::from_micros(1))
                            .await
                            .is_ok()
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
        while !feed.is_finished() {
            tokio::task::yield_now().await;
        }
        accepted
    };
    // A guard against a hang (someone stranded), not a wait for progress.
    let accepted = tokio::time::timeout(std::time::Duration::from_secs(60), all)
        .await
        .expect("a sender or the feed was stranded");
    let got = w.call(Work::Get, None).await.unwrap();
    let from_feed = got
        .iter()
        .filter(|n| (10_001..=13_000).contains(*n))
        .count();
    assert_eq!(from_feed, 3_000, "every stream item arrives");
    assert!(got.contains(&999), "the end message arrives");
    assert_eq!(got.len(), 3_000 + 1 + accepted, "and every accepted send");
}
