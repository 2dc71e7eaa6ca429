//! actix (latest): actors run on a tokio `LocalSet` on the scenario's runtime (actix
//! actors are `!Send`; without Arbiters they all share the `block_on` thread).

use std::time::{Duration, Instant};

use actix::prelude::*;

use super::{Adapter, rss_bytes};
use crate::{Flavor, Shape};

struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Add(u64);

#[derive(Message)]
#[rtype(result = "u64")]
struct Get;

#[derive(Message)]
#[rtype(result = "()")]
struct Stop;

impl Handler<Add> for Counter {
    type Result = ();
    fn handle(&mut self, m: Add, _: &mut Context<Self>) {
        self.count += m.0;
    }
}

impl Handler<Get> for Counter {
    type Result = u64;
    fn handle(&mut self, _: Get, _: &mut Context<Self>) -> u64 {
        self.count
    }
}

impl Handler<Stop> for Counter {
    type Result = ();
    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Spawns a counter with this mailbox capacity; the handle resolves when it has ended.
fn counter(capacity: usize) -> (Addr<Counter>, tokio::task::JoinHandle<()>) {
    let mut ctx: Context<Counter> = Context::new();
    ctx.set_mailbox_capacity(capacity);
    let fut = ctx.into_future(Counter { count: 0 });
    let addr = fut.address();
    (addr, actix_rt::spawn(fut))
}

async fn get(c: &Addr<Counter>) -> u64 {
    c.send(Get)
        .await
        .unwrap_or_else(|e| panic!("actix send: {e}"))
}

struct Hop {
    next: Option<Addr<Hop>>,
    index: u64,
    done: tokio::sync::mpsc::UnboundedSender<u64>,
}

impl Actor for Hop {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "()")]
struct Next(Addr<Hop>);

#[derive(Message)]
#[rtype(result = "()")]
struct Token(u64);

impl Handler<Next> for Hop {
    type Result = ();
    fn handle(&mut self, m: Next, _: &mut Context<Self>) {
        self.next = Some(m.0);
    }
}

impl Handler<Token> for Hop {
    type Result = ();
    fn handle(&mut self, Token(left): Token, _: &mut Context<Self>) {
        if left == 0 {
            let _ = self.done.send(self.index);
        } else if let Some(next) = &self.next {
            next.do_send(Token(left - 1));
        }
    }
}

struct Aggregator {
    counters: Vec<Addr<Counter>>,
}

impl Actor for Aggregator {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "u64")]
struct Collect;

impl Handler<Collect> for Aggregator {
    type Result = ResponseFuture<u64>;
    fn handle(&mut self, _: Collect, _: &mut Context<Self>) -> Self::Result {
        let counters = self.counters.clone();
        Box::pin(async move {
            let mut total = 0;
            for c in &counters {
                total += get(c).await;
            }
            total
        })
    }
}

/// Runs `f` on a `LocalSet` on this flavor's runtime.
fn local<F: std::future::Future>(flavor: Flavor, f: F) -> F::Output {
    let rt = flavor.runtime();
    tokio::task::LocalSet::new().block_on(&rt, f)
}

/// Runs `work` in `shape`: a `Task` is a task on the actors' `LocalSet` (actix's actors
/// are `!Send`, so that is where an actor calling an actor runs).
async fn in_shape<F: std::future::Future + 'static>(shape: Shape, work: F) -> F::Output {
    match shape {
        Shape::BlockOn => work.await,
        Shape::Task => tokio::task::spawn_local(work)
            .await
            .unwrap_or_else(|e| panic!("the measured task failed: {e}")),
    }
}

/// The actix adapter.
pub struct ActixAdapter;

impl Adapter for ActixAdapter {
    fn name(&self) -> &'static str {
        "actix"
    }

    fn cast_throughput(&self, flavor: Flavor, shape: Shape, n: u64) -> Option<Duration> {
        Some(local(flavor, async {
            let (c, _) = counter(16);
            in_shape(shape, async move {
                crate::time_casts(
                    n,
                    || {
                        c.do_send(Add(1));
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
        Some(local(flavor, async {
            let (c, _) = counter(16);
            c.do_send(Add(3));
            in_shape(shape, async move { crate::time_calls(n, || get(&c)).await }).await
        }))
    }

    fn spawn_stop(&self, flavor: Flavor, n: u64) -> Option<Duration> {
        Some(local(flavor, async {
            let start = Instant::now();
            let all: Vec<_> = (0..n).map(|_| counter(16)).collect();
            for (c, _) in &all {
                c.do_send(Stop);
            }
            for (_, h) in all {
                h.await.unwrap_or_else(|e| panic!("actix join: {e}"));
            }
            start.elapsed()
        }))
    }

    fn idle_bytes(&self, n: u64) -> Option<f64> {
        Some(local(Flavor::MultiThread, async {
            let before = rss_bytes();
            let all: Vec<_> = (0..n).map(|_| counter(16)).collect();
            let per = rss_bytes().saturating_sub(before) as f64 / n as f64;
            assert_eq!(get(&all[all.len() - 1].0).await, 0);
            per
        }))
    }

    fn fan_in(&self, flavor: Flavor, senders: u64, each: u64) -> Option<Duration> {
        Some(local(flavor, async {
            let (c, _) = counter(16);
            let start = Instant::now();
            let tasks: Vec<_> = (0..senders)
                .map(|_| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        for _ in 0..each {
                            c.do_send(Add(1));
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
        Some(local(flavor, async {
            let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
            let ring: Vec<_> = (0..actors)
                .map(|index| {
                    Hop {
                        next: None,
                        index,
                        done: done_tx.clone(),
                    }
                    .start()
                })
                .collect();
            for (i, r) in ring.iter().enumerate() {
                r.do_send(Next(ring[(i + 1) % ring.len()].clone()));
            }
            let start = Instant::now();
            ring[0].do_send(Token(hops));
            let at = done_rx.recv().await.unwrap_or_else(|| panic!("ring broke"));
            let t = start.elapsed();
            assert_eq!(at, hops % actors);
            t
        }))
    }

    fn ring_pinned(&self, flavor: Flavor, actors: u64, hops: u64) -> Option<Duration> {
        self.ring(flavor, actors, hops)
    }

    fn bounded_cast(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(local(flavor, async {
            let (c, _) = counter(capacity);
            let start = Instant::now();
            for _ in 0..n {
                // `do_send` ignores the capacity; `try_send` respects it.
                loop {
                    match c.try_send(Add(1)) {
                        Ok(()) => break,
                        Err(SendError::Full(_)) => tokio::task::yield_now().await,
                        Err(SendError::Closed(_)) => panic!("actix counter closed"),
                    }
                }
            }
            assert_eq!(get(&c).await, n);
            start.elapsed()
        }))
    }

    fn bounded_task(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(local(flavor, async {
            let (c, _) = counter(capacity);
            // The producer is a task beside the actor (actix's actors share the LocalSet).
            let producer = tokio::task::spawn_local(async move {
                let start = Instant::now();
                for _ in 0..n {
                    loop {
                        match c.try_send(Add(1)) {
                            Ok(()) => break,
                            Err(SendError::Full(_)) => tokio::task::yield_now().await,
                            Err(SendError::Closed(_)) => panic!("actix counter closed"),
                        }
                    }
                }
                assert_eq!(get(&c).await, n);
                start.elapsed()
            });
            producer.await.unwrap_or_else(|e| panic!("producer: {e}"))
        }))
    }

    fn bounded_pinned(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        self.bounded_task(flavor, n, capacity)
    }

    fn counter_system(&self, flavor: Flavor, ops: u64) -> Option<Duration> {
        Some(local(flavor, async {
            let start = Instant::now();
            let counters: Vec<_> = (0..4).map(|_| counter(16).0).collect();
            let clients: Vec<_> = counters
                .iter()
                .map(|c| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        for _ in 0..ops / 4 {
                            c.do_send(Add(1));
                        }
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap_or_else(|e| panic!("client: {e}"));
            }
            let agg = Aggregator { counters }.start();
            let total = agg
                .send(Collect)
                .await
                .unwrap_or_else(|e| panic!("actix send: {e}"));
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
        Some(crate::savina::actix::run(bench, flavor, params))
    }
}
