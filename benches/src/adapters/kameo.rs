//! kameo (latest): the actor struct is its state, one `Message<M>` impl per message.

use std::time::{Duration, Instant};

use kameo::actor::{Actor, ActorRef, Spawn};
use kameo::error::Infallible;
use kameo::mailbox;
use kameo::message::{Context, Message};

use super::{Adapter, rss_bytes};
use crate::{Flavor, Shape};

struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Args = ();
    type Error = Infallible;
    async fn on_start(_: (), _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Counter { count: 0 })
    }
}

struct Add(u64);
struct Get;

impl Message<Add> for Counter {
    type Reply = ();
    async fn handle(&mut self, m: Add, _: &mut Context<Self, ()>) {
        self.count += m.0;
    }
}

impl Message<Get> for Counter {
    type Reply = u64;
    async fn handle(&mut self, _: Get, _: &mut Context<Self, u64>) -> u64 {
        self.count
    }
}

fn counter() -> ActorRef<Counter> {
    Counter::spawn_with_mailbox((), mailbox::unbounded())
}

async fn get(c: &ActorRef<Counter>) -> u64 {
    c.ask(Get)
        .await
        .unwrap_or_else(|e| panic!("kameo ask: {e}"))
}

fn add(c: &ActorRef<Counter>, n: u64) {
    assert!(c.tell(Add(n)).try_send().is_ok(), "kameo tell");
}

struct Hop {
    next: Option<ActorRef<Hop>>,
    index: u64,
    done: tokio::sync::mpsc::UnboundedSender<u64>,
}

impl Actor for Hop {
    type Args = (u64, tokio::sync::mpsc::UnboundedSender<u64>);
    type Error = Infallible;
    async fn on_start((index, done): Self::Args, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Hop {
            next: None,
            index,
            done,
        })
    }
}

struct Next(ActorRef<Hop>);
struct Token(u64);

impl Message<Next> for Hop {
    type Reply = ();
    async fn handle(&mut self, m: Next, _: &mut Context<Self, ()>) {
        self.next = Some(m.0);
    }
}

impl Message<Token> for Hop {
    type Reply = ();
    async fn handle(&mut self, Token(left): Token, _: &mut Context<Self, ()>) {
        if left == 0 {
            let _ = self.done.send(self.index);
        } else if let Some(next) = &self.next {
            let _ = next.tell(Token(left - 1)).try_send();
        }
    }
}

struct Aggregator {
    counters: Vec<ActorRef<Counter>>,
}

impl Actor for Aggregator {
    type Args = Vec<ActorRef<Counter>>;
    type Error = Infallible;
    async fn on_start(counters: Self::Args, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Aggregator { counters })
    }
}

struct Collect;

impl Message<Collect> for Aggregator {
    type Reply = u64;
    async fn handle(&mut self, _: Collect, _: &mut Context<Self, u64>) -> u64 {
        let mut total = 0;
        for c in &self.counters {
            total += get(c).await;
        }
        total
    }
}

/// The kameo adapter.
pub struct KameoAdapter;

impl Adapter for KameoAdapter {
    fn name(&self) -> &'static str {
        "kameo"
    }

    fn cast_throughput(&self, flavor: Flavor, shape: Shape, n: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let c = counter();
            shape
                .run(async move {
                    crate::time_casts(
                        n,
                        || {
                            add(&c, 1);
                        },
                        || get(&c),
                    )
                    .await
                })
                .await
        }))
    }

    fn call_round_trip(
        &self,
        flavor: Flavor,
        shape: Shape,
        n: u64,
    ) -> Option<(Duration, Vec<Duration>)> {
        Some(flavor.runtime().block_on(async {
            let c = counter();
            add(&c, 3);
            shape
                .run(async move { crate::time_calls(n, || get(&c)).await })
                .await
        }))
    }

    fn spawn_stop(&self, flavor: Flavor, n: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let start = Instant::now();
            let all: Vec<_> = (0..n).map(|_| counter()).collect();
            for c in &all {
                let _ = c.stop_gracefully().await;
            }
            for c in &all {
                c.wait_for_shutdown().await;
            }
            start.elapsed()
        }))
    }

    fn idle_bytes(&self, n: u64) -> Option<f64> {
        Some(Flavor::MultiThread.runtime().block_on(async {
            let before = rss_bytes();
            let all: Vec<_> = (0..n).map(|_| counter()).collect();
            let per = rss_bytes().saturating_sub(before) as f64 / n as f64;
            assert_eq!(get(&all[all.len() - 1]).await, 0);
            per
        }))
    }

    fn fan_in(&self, flavor: Flavor, senders: u64, each: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let c = counter();
            let start = Instant::now();
            let tasks: Vec<_> = (0..senders)
                .map(|_| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        for _ in 0..each {
                            add(&c, 1);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap_or_else(|e| panic!("sender: {e}"));
            }
            assert_eq!(get(&c).await, senders * each);
            start.elapsed()
        }))
    }

    fn ring(&self, flavor: Flavor, actors: u64, hops: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
            let ring: Vec<_> = (0..actors)
                .map(|i| Hop::spawn_with_mailbox((i, done_tx.clone()), mailbox::unbounded()))
                .collect();
            for (i, r) in ring.iter().enumerate() {
                assert!(
                    r.tell(Next(ring[(i + 1) % ring.len()].clone()))
                        .try_send()
                        .is_ok()
                );
            }
            let start = Instant::now();
            assert!(ring[0].tell(Token(hops)).try_send().is_ok());
            let at = done_rx.recv().await.unwrap_or_else(|| panic!("ring broke"));
            let t = start.elapsed();
            assert_eq!(at, hops % actors);
            t
        }))
    }

    fn ring_pinned(&self, _: Flavor, _: u64, _: u64) -> Option<Duration> {
        None
    }

    fn bounded_cast(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let c = Counter::spawn_with_mailbox((), mailbox::bounded(capacity));
            let start = Instant::now();
            for _ in 0..n {
                c.tell(Add(1))
                    .await
                    .unwrap_or_else(|e| panic!("kameo tell: {e}"));
            }
            assert_eq!(get(&c).await, n);
            start.elapsed()
        }))
    }

    fn bounded_task(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let c = Counter::spawn_with_mailbox((), mailbox::bounded(capacity));
            let producer = tokio::spawn(async move {
                let start = Instant::now();
                for _ in 0..n {
                    c.tell(Add(1))
                        .await
                        .unwrap_or_else(|e| panic!("kameo tell: {e}"));
                }
                assert_eq!(get(&c).await, n);
                start.elapsed()
            });
            producer.await.unwrap_or_else(|e| panic!("producer: {e}"))
        }))
    }

    fn bounded_pinned(&self, _: Flavor, _: u64, _: usize) -> Option<Duration> {
        None // no placement on one thread
    }

    fn counter_system(&self, flavor: Flavor, ops: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let start = Instant::now();
            let counters: Vec<_> = (0..4).map(|_| counter()).collect();
            let clients: Vec<_> = counters
                .iter()
                .map(|c| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        for _ in 0..ops / 4 {
                            add(&c, 1);
                        }
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap_or_else(|e| panic!("client: {e}"));
            }
            let agg = Aggregator::spawn_with_mailbox(counters, mailbox::unbounded());
            let total = agg
                .ask(Collect)
                .await
                .unwrap_or_else(|e| panic!("kameo ask: {e}"));
            assert_eq!(total, ops / 4 * 4);
            start.elapsed()
        }))
    }

    fn savina(
        &self,
        bench: crate::savina::Bench,
        flavor: Flavor,
        params: crate::savina::Params,
    ) -> Option<Duration> {
        Some(crate::savina::kameo::run(bench, flavor, params))
    }
}
