//! Ensemble.

use std::time::{Duration, Instant};

use ensemble::{Actor, ActorProcessingErr, ActorRef, Overflow, RpcReplyPort, SpawnOptions};

use super::{Adapter, rss_bytes};
use crate::{Flavor, Shape};

enum Msg {
    Add(u64),
    Get(RpcReplyPort<u64>),
}

struct Counter;

impl Actor for Counter {
    type Msg = Msg;
    type State = u64;
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<Msg>, _: ()) -> Result<u64, ActorProcessingErr> {
        Ok(0)
    }
    async fn handle(
        &self,
        _: ActorRef<Msg>,
        msg: Msg,
        n: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Msg::Add(k) => *n += k,
            Msg::Get(r) => r.send(*n)?,
        }
        Ok(())
    }
}

async fn counter(options: SpawnOptions) -> ActorRef<Msg> {
    Actor::spawn_with(options, Counter, ())
        .await
        .unwrap_or_else(|e| panic!("spawn: {e}"))
        .0
}

async fn get(c: &ActorRef<Msg>) -> u64 {
    c.call(Msg::Get, None)
        .await
        .unwrap_or_else(|e| panic!("call: {e}"))
}

/// A ring member: passes the token on, reports where it stopped.
struct Hop;

enum HopMsg {
    Next(ActorRef<HopMsg>),
    Token(u64),
}

impl Actor for Hop {
    type Msg = HopMsg;
    type State = (
        Option<ActorRef<HopMsg>>,
        u64,
        tokio::sync::mpsc::UnboundedSender<u64>,
    );
    type Arguments = (u64, tokio::sync::mpsc::UnboundedSender<u64>);
    async fn pre_start(
        &self,
        _: ActorRef<HopMsg>,
        (i, done): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok((None, i, done))
    }
    async fn handle(
        &self,
        _: ActorRef<HopMsg>,
        msg: HopMsg,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            HopMsg::Next(n) => st.0 = Some(n),
            HopMsg::Token(0) => st.2.send(st.1)?,
            HopMsg::Token(left) => {
                if let Some(next) = &st.0 {
                    next.cast(HopMsg::Token(left - 1))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    }
}

/// The seed's aggregator, reduced to collecting totals by call.
struct Aggregator;

impl Actor for Aggregator {
    type Msg = RpcReplyPort<u64>;
    type State = Vec<ActorRef<Msg>>;
    type Arguments = Vec<ActorRef<Msg>>;
    async fn pre_start(
        &self,
        _: ActorRef<Self::Msg>,
        counters: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(counters)
    }
    async fn handle(
        &self,
        _: ActorRef<Self::Msg>,
        reply: Self::Msg,
        counters: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let mut total = 0;
        for c in counters.iter() {
            total += c.call(Msg::Get, None).await?;
        }
        reply.send(total)?;
        Ok(())
    }
}

/// A ring of `actors` spawned with `options`, the token passed `hops` times; the time
/// from the first cast to the token's rest.
async fn ring(options: SpawnOptions, actors: u64, hops: u64) -> Duration {
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut ring = Vec::with_capacity(actors as usize);
    for i in 0..actors {
        let (r, _) = Actor::spawn_with(options.clone(), Hop, (i, done_tx.clone()))
            .await
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        ring.push(r);
    }
    for (i, r) in ring.iter().enumerate() {
        assert!(
            r.cast(HopMsg::Next(ring[(i + 1) % ring.len()].clone()))
                .is_ok()
        );
    }
    let start = Instant::now();
    assert!(ring[0].cast(HopMsg::Token(hops)).is_ok());
    let at = done_rx.recv().await.unwrap_or_else(|| panic!("ring broke"));
    let t = start.elapsed();
    assert_eq!(at, hops % actors, "the token stopped at the wrong actor");
    t
}

/// The Ensemble adapter.
pub struct EnsembleAdapter;

impl Adapter for EnsembleAdapter {
    fn name(&self) -> &'static str {
        "ensemble"
    }

    fn cast_throughput(&self, flavor: Flavor, shape: Shape, n: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let c = counter(SpawnOptions::new()).await;
            shape
                .run(async move {
                    crate::time_casts(
                        n,
                        || {
                            assert!(c.cast(Msg::Add(1)).is_ok());
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
            let c = counter(SpawnOptions::new()).await;
            assert!(c.cast(Msg::Add(3)).is_ok());
            shape
                .run(async move { crate::time_calls(n, || get(&c)).await })
                .await
        }))
    }

    fn spawn_stop(&self, flavor: Flavor, n: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let start = Instant::now();
            let mut all = Vec::with_capacity(n as usize);
            for _ in 0..n {
                all.push(counter(SpawnOptions::new()).await);
            }
            for c in &all {
                c.stop(None);
            }
            for c in &all {
                c.wait(None).await.unwrap_or_else(|e| panic!("wait: {e}"));
            }
            start.elapsed()
        }))
    }

    fn idle_bytes(&self, n: u64) -> Option<f64> {
        Some(Flavor::MultiThread.runtime().block_on(async {
            let before = rss_bytes();
            let mut all = Vec::with_capacity(n as usize);
            for _ in 0..n {
                all.push(counter(SpawnOptions::new()).await);
            }
            let per = rss_bytes().saturating_sub(before) as f64 / n as f64;
            assert_eq!(get(&all[all.len() - 1]).await, 0);
            per
        }))
    }

    fn fan_in(&self, flavor: Flavor, senders: u64, each: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let c = counter(SpawnOptions::new()).await;
            let start = Instant::now();
            let tasks: Vec<_> = (0..senders)
                .map(|_| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        for _ in 0..each {
                            assert!(c.cast(Msg::Add(1)).is_ok());
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
        Some(
            flavor
                .runtime()
                .block_on(ring(SpawnOptions::new(), actors, hops)),
        )
    }

    fn ring_pinned(&self, flavor: Flavor, actors: u64, hops: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let arbiter = ensemble::Arbiter::new("ring").unwrap_or_else(|e| panic!("arbiter: {e}"));
            let took = ring(SpawnOptions::new().arbiter(&arbiter), actors, hops).await;
            arbiter.stop();
            took
        }))
    }

    fn bounded_cast(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let c = counter(SpawnOptions::new().capacity(capacity, Overflow::Wait)).await;
            let start = Instant::now();
            for _ in 0..n {
                assert!(c.send(Msg::Add(1)).await.is_ok());
            }
            let total = loop {
                match c.call(Msg::Get, None).await {
                    Ok(v) => break v,
                    Err(ensemble::CallError::Send(e)) if e.is_full() => {
                        tokio::task::yield_now().await
                    }
                    Err(e) => panic!("call: {e}"),
                }
            };
            assert_eq!(total, n);
            start.elapsed()
        }))
    }

    fn bounded_task(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let c = counter(SpawnOptions::new().capacity(capacity, Overflow::Wait)).await;
            let producer = tokio::spawn(async move {
                let start = Instant::now();
                for _ in 0..n {
                    assert!(c.send(Msg::Add(1)).await.is_ok());
                }
                // A call into a full `Wait` mailbox waits for room.
                assert_eq!(get(&c).await, n);
                start.elapsed()
            });
            producer.await.unwrap_or_else(|e| panic!("producer: {e}"))
        }))
    }

    fn bounded_pinned(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let arbiter =
                ensemble::Arbiter::new("bounded").unwrap_or_else(|e| panic!("arbiter: {e}"));
            let options = SpawnOptions::new()
                .capacity(capacity, Overflow::Wait)
                .arbiter(&arbiter);
            let c = counter(options).await;
            // The producer runs on the arbiter's thread too.
            let producer = arbiter.handle().spawn(async move {
                let start = Instant::now();
                for _ in 0..n {
                    assert!(c.send(Msg::Add(1)).await.is_ok());
                }
                assert_eq!(get(&c).await, n);
                start.elapsed()
            });
            let took = producer.await.unwrap_or_else(|e| panic!("producer: {e}"));
            arbiter.stop();
            took
        }))
    }

    fn counter_system(&self, flavor: Flavor, ops: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let start = Instant::now();
            let mut counters = Vec::new();
            for _ in 0..4 {
                counters.push(counter(SpawnOptions::new()).await);
            }
            let clients: Vec<_> = counters
                .iter()
                .map(|c| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        for _ in 0..ops / 4 {
                            assert!(c.cast(Msg::Add(1)).is_ok());
                        }
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap_or_else(|e| panic!("client: {e}"));
            }
            let (agg, _) = Actor::spawn(None, Aggregator, counters)
                .await
                .unwrap_or_else(|e| panic!("spawn: {e}"));
            let total = agg
                .call(|r| r, None)
                .await
                .unwrap_or_else(|e| panic!("call: {e}"));
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
        Some(crate::savina::ensemble::run(bench, flavor, params))
    }
}
