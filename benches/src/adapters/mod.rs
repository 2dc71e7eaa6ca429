//! One adapter per implementation; each runs the same work and asserts its result.

mod actix;
mod ensemble;
mod kameo;
mod ractor;
mod raw;

use std::time::Duration;

use crate::{Flavor, Shape};

pub use self::actix::ActixAdapter;
pub use self::ensemble::EnsembleAdapter;
pub use self::kameo::KameoAdapter;
pub use self::ractor::RactorAdapter;
pub use self::raw::RawTokio;

/// The work every implementation does. Every method asserts its result and returns the
/// time of the measured part; `None` where the implementation has no such feature.
pub trait Adapter: Sync {
    /// A short name for tables.
    fn name(&self) -> &'static str;
    /// 1 sender, running in `shape`, casts `n` increments, then one call confirms the
    /// total.
    fn cast_throughput(&self, flavor: Flavor, shape: Shape, n: u64) -> Option<Duration>;
    /// `n` sequential calls from a caller running in `shape`; returns the total and every
    /// call's latency.
    fn call_round_trip(
        &self,
        flavor: Flavor,
        shape: Shape,
        n: u64,
    ) -> Option<(Duration, Vec<Duration>)>;
    /// Spawns `n` actors, then stops them all and waits for each.
    fn spawn_stop(&self, flavor: Flavor, n: u64) -> Option<Duration>;
    /// Spawns `n` idle actors and returns the RSS growth per actor (bytes). Runs in a
    /// fresh process (see `main.rs`).
    fn idle_bytes(&self, n: u64) -> Option<f64>;
    /// `senders` tasks each cast `each` increments to one actor, then a call confirms.
    fn fan_in(&self, flavor: Flavor, senders: u64, each: u64) -> Option<Duration>;
    /// A ring of `actors` passing a token `hops` times.
    fn ring(&self, flavor: Flavor, actors: u64, hops: u64) -> Option<Duration>;
    /// The ring with its actors placed on one thread where the implementation offers
    /// that (Ensemble: an `Arbiter`; actix runs on one thread anyway; tokio's tasks keep
    /// work stealing, the baseline); `None` without such placement.
    fn ring_pinned(&self, flavor: Flavor, actors: u64, hops: u64) -> Option<Duration>;
    /// 1 sender sends `n` increments into a mailbox bounded to `capacity`, waiting for
    /// room, then a call confirms.
    fn bounded_cast(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration>;
    /// As `bounded_cast`, with the sender a task on the runtime (actor-to-actor
    /// backpressure) instead of the `block_on` thread.
    fn bounded_task(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration>;
    /// As `bounded_task`, with the producer and the actor placed on one thread where the
    /// implementation offers that (Ensemble: both on an `Arbiter`; actix shares one thread
    /// anyway; tokio's tasks keep work stealing, the baseline); `None` without such
    /// placement.
    fn bounded_pinned(&self, flavor: Flavor, n: u64, capacity: usize) -> Option<Duration>;
    /// The seed's counter system at scale: 4 counters, an aggregator that collects
    /// their stats by call, `ops` operations from 4 clients, end to end.
    fn counter_system(&self, flavor: Flavor, ops: u64) -> Option<Duration>;
    /// One program of the Savina suite ([`crate::savina`]).
    fn savina(
        &self,
        bench: crate::savina::Bench,
        flavor: Flavor,
        params: crate::savina::Params,
    ) -> Option<Duration>;
}

/// Every adapter, raw tokio first (the floor every ratio is taken against).
pub fn all() -> Vec<&'static dyn Adapter> {
    vec![
        &RawTokio,
        &EnsembleAdapter,
        &RactorAdapter,
        &KameoAdapter,
        &ActixAdapter,
    ]
}

/// The adapter called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Adapter> {
    all().into_iter().find(|a| a.name() == name)
}

/// The current RSS of this process in bytes (Linux), 0 where unknown.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}
