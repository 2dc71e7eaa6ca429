//! The side-by-side benchmark harness: the same work for every implementation, each
//! result asserted, timings reported as median/min/max with ratios to raw tokio.
//!
//! Run `cargo run --release -p ensemble-benches -- --help`.
#![forbid(unsafe_code)]

pub mod adapters;
pub mod report;
pub mod savina;
pub mod scenarios;

use std::future::Future;
use std::time::{Duration, Instant};

/// Which tokio runtime a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Multi-thread with 2 workers.
    MultiThread,
    /// Current-thread.
    CurrentThread,
}

impl Flavor {
    /// Builds the runtime.
    pub fn runtime(self) -> tokio::runtime::Runtime {
        let mut b = match self {
            Flavor::MultiThread => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(2);
                b
            }
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        };
        b.enable_all()
            .build()
            .unwrap_or_else(|e| panic!("building a runtime: {e}"))
    }

    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            Flavor::MultiThread => "multi-thread",
            Flavor::CurrentThread => "current_thread",
        }
    }
}

/// Where the measured sender or caller runs: the harness's `block_on` thread (outside
/// the runtime's workers, as `main` or a request handler on another runtime is) or a task
/// spawned on the runtime (as an actor casting to or calling an actor is). On the
/// current-thread runtime both run on the one thread; on the multi-thread runtime only
/// the task is a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The `block_on` future itself.
    BlockOn,
    /// A task spawned on the runtime (actix: on its `LocalSet`).
    Task,
}

impl Shape {
    /// Runs `work` in this shape; call it from inside the runtime's `block_on`.
    pub async fn run<F>(self, work: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Shape::BlockOn => work.await,
            Shape::Task => tokio::spawn(work)
                .await
                .unwrap_or_else(|e| panic!("the measured task failed: {e}")),
        }
    }
}

/// One measurement: a duration for the whole run, or bytes for memory rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    /// Wall time of the measured part.
    Time(Duration),
    /// Bytes per actor.
    Bytes(f64),
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sample::Time(d) => write!(f, "{:.2} ms", d.as_secs_f64() * 1e3),
            Sample::Bytes(b) => write!(f, "{b:.0} B"),
        }
    }
}

impl Sample {
    /// The value used for ratios (seconds or bytes; lower is better).
    pub fn value(self) -> f64 {
        match self {
            Sample::Time(d) => d.as_secs_f64(),
            Sample::Bytes(b) => b,
        }
    }
}

/// Times `n` casts made by `cast` (each one increment), then awaits `total`, which must
/// report all `n`: the cast throughput rows' measured part.
pub async fn time_casts<C, T, Fut>(n: u64, mut cast: C, total: T) -> Duration
where
    C: FnMut(),
    T: FnOnce() -> Fut,
    Fut: Future<Output = u64>,
{
    let start = Instant::now();
    for _ in 0..n {
        cast();
    }
    assert_eq!(total().await, n, "a cast was lost");
    start.elapsed()
}

/// Times `n` sequential calls made by `call`, each of which must return 3 (the value the
/// call scenario puts in the counter): the total and every call's latency.
pub async fn time_calls<F, Fut>(n: u64, mut call: F) -> (Duration, Vec<Duration>)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = u64>,
{
    let mut lat = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        assert_eq!(call().await, 3, "a call returned the wrong value");
        lat.push(t.elapsed());
    }
    (start.elapsed(), lat)
}
