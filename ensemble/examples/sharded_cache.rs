//! A key-sharded cache on a worker pool with a bounded intake, under load.
//!
//! Each shard owns a slice of the keyspace (the pool routes by key, so a key always
//! reaches the same shard). Writers flood the pool; its bounded mailbox refuses what it
//! cannot take, and every refusal is handed back to the writer, never lost. A progress
//! line is printed every second, then a summary, then every accepted write is read back
//! and checked.
//!
//! Most writes are refused, on purpose: the writers never wait and never slow down, so
//! they offer far more than four shards can store, and the intake (`Overflow::Reject`)
//! turns the excess away at once with `SendError::Full`, handing each put back to its
//! writer. That is backpressure doing its job: memory stays bounded and nothing is
//! dropped silently. "Shed" counts messages a shedding mailbox (`Overflow::DropOldest` or
//! `DropNewest`) accepted and then dropped as dead letters; this intake refuses instead
//! of shedding, so it stays 0. A writer that must not be refused would call
//! `submit_wait` (an `Overflow::Wait` intake) and slow down to the cache's pace.
//!
//! ```text
//! cargo run --release --example sharded_cache -- [--seconds N] [--writers N] [--shards N] [--capacity N]
//! cargo run --release --example sharded_cache -- --observe 127.0.0.1:9000   # until Ctrl-C
//! ```
//!
//! With `--observe ADDR` the web observer serves the system at `http://ADDR/` and the
//! writers keep going until Ctrl-C (then the summary and the check run as usual).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ensemble::pool::{Pool, PoolMsg, PoolSpec, Routing};
use ensemble::{
    Actor, ActorProcessingErr, ActorRef, Overflow, RpcReplyPort, SendError, SpawnOptions,
};

enum Cache {
    Put(String, u64),
    Get(String, RpcReplyPort<Option<u64>>),
}

struct Shard;

impl Actor for Shard {
    type Msg = Cache;
    type State = HashMap<String, u64>;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<Cache>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(HashMap::new())
    }

    async fn handle(
        &self,
        _: ActorRef<Cache>,
        msg: Cache,
        map: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Cache::Put(key, value) => {
                map.insert(key, value);
            }
            Cache::Get(key, reply) => reply.send(map.get(&key).copied())?,
        }
        Ok(())
    }
}

struct Config {
    seconds: u64,
    writers: u64,
    shards: usize,
    capacity: usize,
    observe: Option<String>,
}

fn parse_args() -> Option<Config> {
    let mut c = Config {
        seconds: 3,
        writers: 4,
        shards: 4,
        capacity: 1024,
        observe: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<u64>().ok());
        match arg.as_str() {
            "--seconds" => c.seconds = value()?,
            "--writers" => c.writers = value()?.max(1),
            "--shards" => c.shards = value()?.max(1) as usize,
            "--capacity" => c.capacity = value()?.max(1) as usize,
            "--observe" => c.observe = Some(args.next()?),
            _ => return None,
        }
    }
    Some(c)
}

/// One writer: puts over its own 1,000 keys until `until` (or `stop`); remembers the
/// last accepted value of each key (a refused put leaves the previous value in place).
async fn writer(
    id: u64,
    until: Instant,
    stop: Arc<AtomicBool>,
    cache: ActorRef<PoolMsg<Cache>>,
    attempts: Arc<AtomicU64>,
) -> HashMap<String, u64> {
    let mut accepted = HashMap::new();
    for n in 0u64.. {
        if n % 256 == 0 {
            if Instant::now() >= until || stop.load(Ordering::Relaxed) {
                break;
            }
            tokio::task::yield_now().await;
        }
        let key = format!("w{id}-k{}", n % 1000);
        match cache.submit_keyed(&key, Cache::Put(key.clone(), n)) {
            Ok(()) => {
                accepted.insert(key, n);
            }
            Err(SendError::Full(_)) => {} // refused and handed back: the writer knows
            Err(e) => panic!("cache gone: {e}"),
        }
        attempts.fetch_add(1, Ordering::Relaxed);
    }
    accepted
}

const HELP: &str = "sharded_cache: a key-sharded cache on a bounded worker pool, under load

USAGE: cargo run --release --example sharded_cache -- [OPTIONS]

  --seconds N   how long to write (3)
  --writers N   concurrent writers (4)
  --shards N    cache shards, one actor each (4)
  --capacity N  the pool's intake bound; more is refused (1024)
  --observe ADDR  serve the web observer at http://ADDR/ and write until Ctrl-C";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(config) = parse_args() else {
        println!("{HELP}");
        return Ok(());
    };
    let observer = match &config.observe {
        Some(addr) => {
            let observer = ensemble_observer::Observer::bind(addr).start().await?;
            println!("observer: {} (Ctrl-C to stop)", observer.url());
            Some(observer)
        }
        None => None,
    };
    let spec = PoolSpec::new(config.shards, Routing::ByKey, || (Shard, ())).worker_capacity(256);
    let intake = SpawnOptions::new()
        .name("cache")
        .capacity(config.capacity, Overflow::Reject);
    let (cache, handle) = Pool::start(intake, spec).await?;

    let attempts = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let reporter = {
        let (cache, attempts, done) = (cache.clone(), attempts.clone(), done.clone());
        tokio::spawn(async move {
            let first = tokio::time::Instant::now() + Duration::from_secs(1);
            let mut tick = tokio::time::interval_at(first, Duration::from_secs(1));
            let (mut last_attempts, mut last_accepted) = (0, 0);
            while !done.load(Ordering::Relaxed) {
                tick.tick().await;
                let now = attempts.load(Ordering::Relaxed);
                let s = cache.stats();
                println!(
                    "[{:>3.0}s] {:>9} puts/s {:>9} accepted/s  rejected {:>9}  shed {}",
                    start.elapsed().as_secs_f64(),
                    now - last_attempts,
                    s.received - last_accepted,
                    s.rejected,
                    s.shed
                );
                (last_attempts, last_accepted) = (now, s.received);
            }
        })
    };

    let stop = Arc::new(AtomicBool::new(false));
    let until = if observer.is_some() {
        // Observed: write until Ctrl-C.
        let stop = stop.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.store(true, Ordering::Relaxed);
        });
        start + Duration::from_secs(365 * 24 * 3600)
    } else {
        start + Duration::from_secs(config.seconds)
    };
    let writers: Vec<_> = (0..config.writers)
        .map(|id| {
            let stop = stop.clone();
            tokio::spawn(writer(id, until, stop, cache.clone(), attempts.clone()))
        })
        .collect();
    let mut expected = HashMap::new();
    for w in writers {
        expected.extend(w.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    reporter.abort();

    let stats = cache.stats();
    let total = attempts.load(Ordering::Relaxed);
    println!("\n=== Summary ===");
    println!(
        "puts attempted: {total} in {secs:.2} s ({:.0} puts/s, {:.0} accepted/s)",
        total as f64 / secs,
        stats.received as f64 / secs
    );
    println!(
        "accepted: {}  rejected: {}  shed: {}",
        stats.received, stats.rejected, stats.shed
    );
    println!(
        "(rejected: refused at the full intake and handed back to the writer, which offers \
         more than the shards can take on purpose; shed: accepted then dropped by a \
         shedding mailbox, none here)"
    );
    assert_eq!(
        stats.received + stats.rejected,
        total,
        "every put was either accepted or refused"
    );

    // Read every key back through the same routing; every accepted write must be there.
    let mut verified = 0;
    for (key, value) in &expected {
        let got = loop {
            let (tx, rx) = tokio::sync::oneshot::channel();
            match cache.submit_keyed(key, Cache::Get(key.clone(), tx.into())) {
                Ok(()) => break rx.await?,
                Err(SendError::Full(_)) => tokio::task::yield_now().await,
                Err(e) => return Err(format!("cache gone: {e}").into()),
            }
        };
        if got != Some(*value) {
            return Err(format!("key {key}: wrote {value}, read {got:?}").into());
        }
        verified += 1;
    }
    println!("verified: {verified} keys, every accepted write is readable");

    cache.drain()?;
    handle.await?;
    Ok(())
}
