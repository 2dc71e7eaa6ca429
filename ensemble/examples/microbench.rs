//! A small micro-benchmark: cast throughput, call round trip and idle bytes per actor,
//! for Ensemble and for the floor (a raw tokio task owning its state, fed by an
//! unbounded mpsc channel, a oneshot per request). Every figure is checked: a run whose
//! counter does not add up fails instead of printing a number.
//!
//! ```text
//! cargo run --release -p ensemble --example microbench -- [--quick] [--help]
//! ```
//!
//! The side-by-side harness against ractor, kameo and actix lives in `benches/`.

use std::time::{Duration, Instant};

use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::{mpsc, oneshot};

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
            Msg::Get(reply) => reply.send(*n)?,
        }
        Ok(())
    }
}

enum RawMsg {
    Add(u64),
    Get(oneshot::Sender<u64>),
}

fn raw_spawn() -> mpsc::UnboundedSender<RawMsg> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut n = 0u64;
        while let Some(m) = rx.recv().await {
            match m {
                RawMsg::Add(k) => n += k,
                RawMsg::Get(reply) => {
                    let _ = reply.send(n);
                }
            }
        }
    });
    tx
}

async fn raw_get(tx: &mpsc::UnboundedSender<RawMsg>) -> u64 {
    let (otx, orx) = oneshot::channel();
    tx.send(RawMsg::Get(otx))
        .unwrap_or_else(|_| panic!("raw actor gone"));
    orx.await.expect("raw reply")
}

async fn cast_ensemble(n: u64) -> Duration {
    let (c, _) = Actor::spawn(None, Counter, ()).await.expect("spawn");
    let start = Instant::now();
    for _ in 0..n {
        c.cast(Msg::Add(1))
            .unwrap_or_else(|_| panic!("cast failed"));
    }
    let total = c.call(Msg::Get, None).await.expect("call");
    let t = start.elapsed();
    assert_eq!(total, n, "ensemble counter lost messages");
    c.stop_and_wait(None, None).await.expect("stop");
    t
}

async fn cast_raw(n: u64) -> Duration {
    let tx = raw_spawn();
    let start = Instant::now();
    for _ in 0..n {
        tx.send(RawMsg::Add(1))
            .unwrap_or_else(|_| panic!("send failed"));
    }
    let total = raw_get(&tx).await;
    let t = start.elapsed();
    assert_eq!(total, n, "raw counter lost messages");
    t
}

async fn call_ensemble(n: u64) -> Duration {
    let (c, _) = Actor::spawn(None, Counter, ()).await.expect("spawn");
    c.cast(Msg::Add(5))
        .unwrap_or_else(|_| panic!("cast failed"));
    let start = Instant::now();
    let mut sum = 0;
    for _ in 0..n {
        sum += c.call(Msg::Get, None).await.expect("call");
    }
    let t = start.elapsed();
    assert_eq!(sum, 5 * n);
    c.stop_and_wait(None, None).await.expect("stop");
    t
}

async fn call_raw(n: u64) -> Duration {
    let tx = raw_spawn();
    tx.send(RawMsg::Add(5))
        .unwrap_or_else(|_| panic!("send failed"));
    let start = Instant::now();
    let mut sum = 0;
    for _ in 0..n {
        sum += raw_get(&tx).await;
    }
    let t = start.elapsed();
    assert_eq!(sum, 5 * n);
    t
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

async fn idle_ensemble(n: usize) -> f64 {
    let before = rss_bytes();
    let mut refs = Vec::with_capacity(n);
    for _ in 0..n {
        refs.push(Actor::spawn(None, Counter, ()).await.expect("spawn").0);
    }
    // Let every task run to its idle point.
    for r in &refs {
        r.cast(Msg::Add(0))
            .unwrap_or_else(|_| panic!("cast failed"));
    }
    assert_eq!(refs[n - 1].call(Msg::Get, None).await.expect("call"), 0);
    let per = (rss_bytes().saturating_sub(before)) as f64 / n as f64;
    assert_eq!(refs[n - 1].call(Msg::Get, None).await.expect("call"), 0);
    for r in &refs {
        r.stop(None);
    }
    for r in &refs {
        r.wait(None).await.expect("wait");
    }
    per
}

async fn idle_raw(n: usize) -> f64 {
    let before = rss_bytes();
    let mut txs = Vec::with_capacity(n);
    for _ in 0..n {
        txs.push(raw_spawn());
    }
    for tx in &txs {
        tx.send(RawMsg::Add(0))
            .unwrap_or_else(|_| panic!("send failed"));
    }
    assert_eq!(raw_get(&txs[n - 1]).await, 0);
    let per = (rss_bytes().saturating_sub(before)) as f64 / n as f64;
    assert_eq!(raw_get(&txs[n - 1]).await, 0);
    per
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "microbench: Ensemble vs a raw tokio task + mpsc channel\n\n\
             USAGE: cargo run --release -p ensemble --example microbench -- [--quick]\n\n\
             --quick   1% of the work (a smoke run)\n\
             Rows: cast throughput (1 sender, 1M casts + 1 call), call round trip \
             (100k sequential calls), idle bytes per actor (RSS delta over 100k actors).\n\
             Runs on a 2-worker multi-thread runtime; each row is the median of 5 runs."
        );
        return;
    }
    let scale = if args.iter().any(|a| a == "--quick") {
        100
    } else {
        1
    };
    let casts = 1_000_000 / scale;
    let calls = 100_000 / scale;
    let idle = 100_000 / scale as usize;

    // Idle memory first, in a fresh process state, each on its own runtime.
    let rt = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    };
    let raw_idle = rt().block_on(idle_raw(idle));
    let ens_idle = rt().block_on(idle_ensemble(idle));

    let runtime = rt();
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (mut ec, mut rc, mut el, mut rl) = (vec![], vec![], vec![], vec![]);
    for _ in 0..5 {
        ec.push(runtime.block_on(cast_ensemble(casts)));
        rc.push(runtime.block_on(cast_raw(casts)));
        el.push(runtime.block_on(call_ensemble(calls)));
        rl.push(runtime.block_on(call_raw(calls)));
    }
    let (ec, rc, el, rl) = (median(ec), median(rc), median(el), median(rl));
    let rate = |d: Duration, n: u64| n as f64 / d.as_secs_f64() / 1e6;
    let per = |d: Duration, n: u64| d.as_nanos() as f64 / n as f64;
    println!("| row | ensemble | raw tokio | ensemble / raw |");
    println!("|---|---|---|---|");
    println!(
        "| cast throughput (M msg/s) | {:.2} | {:.2} | {:.2}x |",
        rate(ec, casts),
        rate(rc, casts),
        rate(ec, casts) / rate(rc, casts)
    );
    println!(
        "| call round trip (ns) | {:.0} | {:.0} | {:.2}x |",
        per(el, calls),
        per(rl, calls),
        per(el, calls) / per(rl, calls)
    );
    println!(
        "| idle bytes per actor | {:.0} | {:.0} | {:.2}x |",
        ens_idle,
        raw_idle,
        ens_idle / raw_idle
    );
}
