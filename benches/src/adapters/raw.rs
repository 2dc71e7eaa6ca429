//! The floor: a plain tokio task owning its state, fed by an mpsc channel, a oneshot per
//! request.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{Adapter, rss_bytes};
use crate::{Flavor, Shape};

enum Msg {
    Add(u64),
    Get(oneshot::Sender<u64>),
}

fn counter() -> mpsc::UnboundedSender<Msg> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut n = 0u64;
        while let Some(m) = rx.recv().await {
            match m {
                Msg::Add(k) => n += k,
                Msg::Get(r) => {
                    let _ = r.send(n);
                }
            }
        }
    });
    tx
}

async fn get(tx: &mpsc::UnboundedSender<Msg>) -> u64 {
    let (r, rx) = oneshot::channel();
    assert!(tx.send(Msg::Get(r)).is_ok(), "raw counter gone");
    rx.await
        .unwrap_or_else(|_| panic!("raw counter dropped the reply"))
}

/// A counter task behind a bounded mpsc channel of `capacity`.
fn bounded_counter(capacity: usize) -> mpsc::Sender<Msg> {
    let (tx, mut rx) = mpsc::channel::<Msg>(capacity);
    tokio::spawn(async move {
        let mut total = 0u64;
        while let Some(m) = rx.recv().await {
            match m {
                Msg::Add(k) => total += k,
                Msg::Get(r) => {
                    let _ = r.send(total);
                }
            }
        }
    });
    tx
}

/// The raw tokio baseline.
pub struct RawTokio;

impl Adapter for RawTokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn cast_throughput(&self, flavor: Flavor, shape: Shape, n: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let tx = counter();
            shape
                .run(async move {
                    crate::time_casts(
                        n,
                        || {
                            assert!(tx.send(Msg::Add(1)).is_ok());
                        },
                        || get(&tx),
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
            let tx = counter();
            assert!(tx.send(Msg::Add(3)).is_ok());
            shape
                .run(async move { crate::time_calls(n, || get(&tx)).await })
                .await
        }))
    }

    fn spawn_stop(&self, flavor: Flavor, n: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let start = Instant::now();
            let mut all = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
                let h = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                all.push((tx, h));
            }
            // Stop every task first (as the actor adapters signal every stop first), then
            // wait for each.
            let (txs, handles): (Vec<_>, Vec<_>) = all.into_iter().unzip();
            drop(txs);
            for h in handles {
                h.await.unwrap_or_else(|e| panic!("raw task failed: {e}"));
            }
            start.elapsed()
        }))
    }

    fn idle_bytes(&self, n: u64) -> Option<f64> {
        Some(Flavor::MultiThread.runtime().block_on(async {
            let before = rss_bytes();
            let txs: Vec<_> = (0..n).map(|_| counter()).collect();
            let per = rss_bytes().saturating_sub(before) as f64 / n as f64;
            assert_eq!(get(&txs[txs.len() - 1]).await, 0);
            per
        }))
    }

    fn fan_in(&self, flavor: Flavor, senders: u64, each: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let tx = counter();
            let start = Instant::now();
            let tasks: Vec<_> = (0..senders)
                .map(|_| {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for _ in 0..each {
                            assert!(tx.send(Msg::Add(1)).is_ok());
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap_or_else(|e| panic!("sender failed: {e}"));
            }
            assert_eq!(get(&tx).await, senders * each);
            start.elapsed()
        }))
    }

    fn ring(&self, flavor: Flavor, actors: u64, hops: u64) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let (done_tx, mut done_rx) = mpsc::unbounded_channel::<u64>();
            let mut senders = Vec::new();
            let mut receivers = Vec::new();
            for _ in 0..actors {
                let (tx, rx) = mpsc::unbounded_channel::<u64>();
                senders.push(tx);
                receivers.push(rx);
            }
            for (i, mut rx) in receivers.into_iter().enumerate() {
                let next = senders[(i + 1) % actors as usize].clone();
                let done = done_tx.clone();
                tokio::spawn(async move {
                    while let Some(left) = rx.recv().await {
                        if left == 0 {
                            let _ = done.send(i as u64);
                        } else if next.send(left - 1).is_err() {
                            return;
                        }
                    }
                });
            }
            let start = Instant::now();
            assert!(senders[0].send(hops).is_ok());
            let at = done_rx.recv().await.unwrap_or_else(|| panic!("ring broke"));
            let t = start.elapsed();
            assert_eq!(at, hops % actors, "the token stopped at the wrong actor");
            t
        }))
    }

    fn ring_pinned(&self, flavor: Flavor, actors: u64, hops: u64) -> Option<Duration> {
        self.ring(flavor, actors, hops)
    }

    fn bounded_cast(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let tx = bounded_counter(capacity);
            let start = Instant::now();
            for _ in 0..n {
                assert!(tx.send(Msg::Add(1)).await.is_ok());
            }
            let (r, reply) = oneshot::channel();
            assert!(tx.send(Msg::Get(r)).await.is_ok());
            assert_eq!(reply.await.ok(), Some(n));
            start.elapsed()
        }))
    }

    fn bounded_task(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        Some(flavor.runtime().block_on(async {
            let tx = bounded_counter(capacity);
            let producer = tokio::spawn(async move {
                let start = Instant::now();
                for _ in 0..n {
                    assert!(tx.send(Msg::Add(1)).await.is_ok());
                }
                let (r, reply) = oneshot::channel();
                assert!(tx.send(Msg::Get(r)).await.is_ok());
                assert_eq!(reply.await.ok(), Some(n));
                start.elapsed()
            });
            producer.await.unwrap_or_else(|e| panic!("producer: {e}"))
        }))
    }

    fn bounded_pinned(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration> {
        self.bounded_task(flavor, n, capacity)
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
                            assert!(c.send(Msg::Add(1)).is_ok());
                        }
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap_or_else(|e| panic!("client failed: {e}"));
            }
            // The aggregator: a task that collects every counter's value by request.
            let (agg_tx, mut agg_rx) = mpsc::unbounded_channel::<oneshot::Sender<u64>>();
            let cs = counters.clone();
            tokio::spawn(async move {
                while let Some(reply) = agg_rx.recv().await {
                    let mut total = 0;
                    for c in &cs {
                        total += get(c).await;
                    }
                    let _ = reply.send(total);
                }
            });
            let (r, rx) = oneshot::channel();
            assert!(agg_tx.send(r).is_ok());
            assert_eq!(rx.await.ok(), Some(ops / 4 * 4));
            start.elapsed()
        }))
    }

    fn savina(
        &self,
        bench: crate::savina::Bench,
        flavor: Flavor,
        params: crate::savina::Params,
    ) -> Option<Duration> {
        Some(crate::savina::raw::run(bench, flavor, params))
    }
}
