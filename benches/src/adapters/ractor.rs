//! ractor (latest): native async hooks, `Box<dyn Any>` per message inside.

use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

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
            Msg::Get(r) => {
                let _ = r.send(*n);
            }
        }
        Ok(())
    }
}

async fn counter() -> (ActorRef<Msg>, tokio::task::JoinHandle<()>) {
    Actor::spawn(None, Counter, ())
        .await
        .unwrap_or_else(|e| panic!("ractor spawn: {e}"))
}

async fn get(c: &ActorRef<Msg>) -> u64 {
    match c.call(Msg::Get, None).await {
        Ok(ractor::rpc::CallResult::Success(v)) => v,
        _ => panic!("ractor call failed"),
    }
}

enum HopMsg {
    Next(ActorRef<HopMsg>),
    Token(u64),
}

struct Hop;

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
        (i, d): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok((None, i, d))
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
                if let Some(n) = &st.0 {
                    n.cast(HopMsg::Token(left - 1))?;
                }
            }
        }
        Ok(())
    }
}

struct Aggregator;

impl Actor for Aggregator {
    type Msg = RpcReplyPort<u64>;
    type State = Vec<ActorRef<Msg>>;
    type Arguments = Vec<ActorRef<Msg>>;
    async fn pre_start(
        &self,
        _: ActorRef<Self::Msg>,
        c: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(c)
    }
    async fn handle(
        &self,
        _: ActorRef<Self::Msg>,
        reply: Self::Msg,
        cs: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let mut total = 0;
        for c in cs.iter() {
            total += get(c).await;
        }
        let _ = reply.send(total);
        Ok(())
    }
}

/// The ractor adapter.
pub struct RactorAdapter;

impl Adapter for RactorAdapter {
    fn name(&self) -> &'static str {
        "ractor"
    }

    fn cast_throughput(&self, flavor: Flavor, shape: Shape, n: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let (c, _) = counter().await;
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
            let (c, _) = counter().await;
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
                all.push(counter().await);
            }
            for (c, _) in &all {
                c.stop(None);
            }
            for (_, h) in all {
                h.await.unwrap_or_else(|e| panic!("ractor join: {e}"));
            }
            start.elapsed()
        }))
    }

    fn idle_bytes(&self, n: u64) -> Option<f64> {
        Some(Flavor::MultiThread.runtime().block_on(async {
            let before = rss_bytes();
            let mut all = Vec::with_capacity(n as usize);
            for _ in 0..n {
                all.push(counter().await);
            }
            let per = rss_bytes().saturating_sub(before) as f64 / n as f64;
            assert_eq!(get(&all[all.len() - 1].0).await, 0);
            per
        }))
    }

    fn fan_in(&self, flavor: Flavor, senders: u64, each: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let (c, _) = counter().await;
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
        Some(flavor.runtime().block_on(async {
            let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
            let mut ring = Vec::new();
            for i in 0..actors {
                let (r, _) = Actor::spawn(None, Hop, (i, done_tx.clone()))
                    .await
                    .unwrap_or_else(|e| panic!("ractor spawn: {e}"));
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
            assert_eq!(at, hops % actors);
            t
        }))
    }

    fn ring_pinned(&self, _: Flavor, _: u64, _: u64) -> Option<Duration> {
        None
    }

    fn bounded_cast(&self, _: Flavor, _: u64, _: usize) -> Option<Duration> {
        None // ractor's mailbox has no capacity option
    }

    fn bounded_task(&self, _: Flavor, _: u64, _: usize) -> Option<Duration> {
        None // ractor's mailbox has no capacity option
    }

    fn bounded_pinned(&self, _: Flavor, _: u64, _: usize) -> Option<Duration> {
        None // no bounded mailbox, no placement
    }

    fn counter_system(&self, flavor: Flavor, ops: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let start = Instant::now();
            let mut counters = Vec::new();
            for _ in 0..4 {
                counters.push(counter().await.0);
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
                .unwrap_or_else(|e| panic!("ractor spawn: {e}"));
            let total = match agg.call(|r| r, None).await {
                Ok(ractor::rpc::CallResult::Success(v)) => v,
                _ => panic!("ractor call failed"),
            };
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
        Some(crate::savina::ractor::run(bench, flavor, params))
    }
}
