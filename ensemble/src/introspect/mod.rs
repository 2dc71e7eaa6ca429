//! Introspection: what runs in a system, pulled as a [`Snapshot`] when asked.
//!
//! Turn it on with [`ActorSystem::enable_introspection`] (the observer does; do it at the
//! start of `main`). From then on the system keeps, for every actor that starts:
//! its type, start time and restart count; for every actor that ends, a record kept a
//! minute (so short-lived actors and crashes stay visible); per actor type, totals of
//! actors and messages; and the time handlers take, per type. Before it is on, a
//! snapshot still shows named actors and their supervision trees, the dead letters by
//! reason and the call timeouts, which are always counted.
//!
//! Off, it costs a flag test per spawn, per end and per batch of messages: the cast,
//! call and spawn rows of the benchmarks do not move (see the guide's observability
//! chapter for the figures). On, each message costs two clock reads.
//!
//! A snapshot holds counters, not rates: a reader derives rates from two snapshots.
//! [`Snapshot::metrics`] lists them as Prometheus-style metrics, and, with the `metrics`
//! feature, [`publish_metrics`] hands them to the `metrics` facade.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use ensemble::{Actor, ActorProcessingErr, ActorRef, ActorSystem, SpawnOptions};
//! struct Idle;
//! impl Actor for Idle {
//!     type Msg = ();
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
//! }
//! let system = ActorSystem::new("doc");
//! system.enable_introspection();
//! let (idle, _) = Actor::spawn_with(SpawnOptions::new().system(&system).name("idle"), Idle, ())
//!     .await
//!     .unwrap();
//! let snapshot = system.snapshot();
//! let info = snapshot.actors.iter().find(|a| a.id == idle.id()).unwrap();
//! assert_eq!(info.name.as_deref(), Some("idle"));
//! assert!(info.type_name.ends_with("Idle"));
//! # }
//! ```

mod snapshot;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

pub(crate) use snapshot::short_type;
pub use snapshot::{ActorInfo, EndedActor, Metric, MetricKind, Snapshot, TypeTotals};

use crate::{ActorCell, ActorSystem, MailboxStats};

/// How long ended actors are kept in snapshots.
pub const ENDED_WINDOW: Duration = Duration::from_secs(60);
/// At most this many ended actors are kept.
pub const ENDED_MAX: usize = 1024;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A tracked actor.
struct Tracked {
    cell: ActorCell,
    type_name: &'static str,
    started: Instant,
    restarts: u32,
}

/// How an actor ended, for the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Stopped,
    Failed,
    Killed,
}

/// A system's introspection state.
#[derive(Default)]
pub(crate) struct Tracker {
    enabled: AtomicBool,
    epoch: OnceLock<(Instant, SystemTime)>,
    actors: Mutex<HashMap<u64, Tracked>>,
    ended: Mutex<VecDeque<EndedActor>>,
    totals: Mutex<HashMap<&'static str, TypeTotals>>,
    dead_letters: Mutex<HashMap<&'static str, u64>>,
    call_timeouts: AtomicU64,
}

impl Tracker {
    /// Whether actors are tracked (one relaxed load: the hot paths' only cost).
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn enable(&self) {
        self.epoch
            .get_or_init(|| (Instant::now(), SystemTime::now()));
        self.enabled.store(true, Ordering::Release);
    }

    /// Milliseconds since tracking began, plus one (0 means "not busy"); saturating.
    pub(crate) fn busy_stamp(&self) -> u32 {
        let epoch = self.epoch.get().map_or_else(Instant::now, |e| e.0);
        u32::try_from(epoch.elapsed().as_millis())
            .unwrap_or(u32::MAX - 1)
            .saturating_add(1)
    }

    /// An actor of type `type_name` started (its `pre_start` returned).
    #[cold]
    #[inline(never)]
    pub(crate) fn started(&self, cell: &ActorCell, type_name: &'static str) {
        if !self.enabled() {
            return;
        }
        lock(&self.actors).insert(
            cell.id().local(),
            Tracked {
                cell: cell.clone(),
                type_name,
                started: Instant::now(),
                restarts: 0,
            },
        );
        lock(&self.totals).entry(type_name).or_default().started += 1;
    }

    /// A supervisor started `cell` as the `restarts`-th restart of one of its children.
    #[cold]
    #[inline(never)]
    pub(crate) fn restarted(&self, cell: &ActorCell, restarts: u32) {
        if !self.enabled() {
            return;
        }
        let type_name = {
            let mut actors = lock(&self.actors);
            let Some(t) = actors.get_mut(&cell.id().local()) else {
                return;
            };
            t.restarts = restarts;
            t.type_name
        };
        lock(&self.totals).entry(type_name).or_default().restarted += 1;
    }

    /// An actor ended: it leaves the live set for the ended window, its counts go to
    /// its type's totals.
    #[cold]
    #[inline(never)]
    pub(crate) fn ended(
        &self,
        cell: &ActorCell,
        parent: Option<crate::ActorId>,
        ending: Ending,
        reason: impl FnOnce() -> String,
        stats: MailboxStats,
    ) {
        if !self.enabled() {
            return;
        }
        let Some(tracked) = lock(&self.actors).remove(&cell.id().local()) else {
            return;
        };
        {
            let mut totals = lock(&self.totals);
            let t = totals.entry(tracked.type_name).or_default();
            match ending {
                Ending::Stopped => t.stopped += 1,
                Ending::Failed => t.failed += 1,
                Ending::Killed => t.killed += 1,
            }
            t.ended_received += stats.received;
            t.ended_handled += stats.handled;
            t.ended_rejected += stats.rejected;
            t.ended_shed += stats.shed;
        }
        let record = EndedActor {
            id: cell.id(),
            name: cell.name(),
            type_name: tracked.type_name,
            parent,
            lifetime: tracked.started.elapsed(),
            restarts: tracked.restarts,
            failed: ending == Ending::Failed,
            reason: reason(),
            at: SystemTime::now(),
            ended: Instant::now(),
            mailbox: stats,
        };
        let mut ended = lock(&self.ended);
        ended.push_back(record);
        while ended.len() > ENDED_MAX
            || ended
                .front()
                .is_some_and(|e| e.ended.elapsed() > ENDED_WINDOW)
        {
            ended.pop_front();
        }
    }

    /// Dead letters, by reason (always counted).
    pub(crate) fn dead_letters(&self, why: &'static str, n: u64) {
        *lock(&self.dead_letters).entry(why).or_insert(0) += n;
    }

    /// A call timed out (always counted).
    pub(crate) fn call_timed_out(&self) {
        self.call_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// Handler time, per type, flushed from a thread's local tally.
    pub(crate) fn add_busy(&self, tally: &mut Tally) {
        let mut totals = lock(&self.totals);
        for (type_name, (count, ns)) in tally.drain() {
            let t = totals.entry(type_name).or_default();
            t.handler_calls += count;
            t.handler_nanos += ns;
        }
    }

    fn snapshot(&self, system: &ActorSystem) -> Snapshot {
        flush_busy(self);
        let now = Instant::now();
        let tracked: Vec<(ActorCell, &'static str, Duration, u32)> = lock(&self.actors)
            .values()
            .map(|t| (t.cell.clone(), t.type_name, t.started.elapsed(), t.restarts))
            .collect();
        let mut actors: Vec<ActorInfo> = tracked
            .into_iter()
            .map(|(cell, type_name, uptime, restarts)| {
                ActorInfo::of(&cell, Some((type_name, uptime, restarts)), self)
            })
            .collect();
        // Named actors and their trees are visible even if they started untracked.
        let mut seen: std::collections::HashSet<u64> =
            actors.iter().map(|a| a.id.local()).collect();
        let mut stack: Vec<ActorCell> = system
            .registered()
            .into_iter()
            .filter_map(|n| system.where_is(n))
            .collect();
        while let Some(cell) = stack.pop() {
            if seen.insert(cell.id().local()) && cell.id().is_local() {
                actors.push(ActorInfo::of(&cell, None, self));
            }
            stack.extend(
                cell.children()
                    .into_iter()
                    .filter(|c| c.id().is_local() && !seen.contains(&c.id().local())),
            );
        }
        actors.sort_by_key(|a| a.id);
        let ended = lock(&self.ended)
            .iter()
            .filter(|e| now.duration_since(e.ended) <= ENDED_WINDOW)
            .cloned()
            .collect();
        let mut dead: Vec<(String, u64)> = lock(&self.dead_letters)
            .iter()
            .map(|(k, v)| ((*k).to_string(), *v))
            .collect();
        dead.sort();
        let mut totals: Vec<(String, TypeTotals)> = lock(&self.totals)
            .iter()
            .map(|(k, v)| ((*k).to_string(), *v))
            .collect();
        totals.sort_by(|a, b| a.0.cmp(&b.0));
        Snapshot {
            system: system.name().to_string(),
            taken_at: SystemTime::now(),
            tracking_since: self.epoch.get().filter(|_| self.enabled()).map(|e| e.1),
            actors,
            ended,
            groups: groups(system),
            dead_letters: dead,
            dead_letters_total: system.dead_letters(),
            call_timeouts: self.call_timeouts.load(Ordering::Relaxed),
            types: totals,
        }
    }
}

/// Every process group of `system`: (scope, group, members).
fn groups(system: &ActorSystem) -> Vec<(String, String, Vec<crate::ActorId>)> {
    let pg = system.groups();
    let mut out = Vec::new();
    for scope in pg.which_scopes() {
        for group in pg.which_groups(&scope) {
            let members = pg
                .members(&scope, &group)
                .iter()
                .map(ActorCell::id)
                .collect();
            out.push((scope.clone(), group, members));
        }
    }
    out.sort();
    out
}

impl ActorSystem {
    /// Starts tracking this system's actors for [`snapshot`](Self::snapshot)s (idempotent).
    /// Actors started before are seen only if named, or in a named actor's tree.
    pub fn enable_introspection(&self) {
        self.tracker().enable();
        crate::observe::activate();
    }

    /// Whether [`enable_introspection`](Self::enable_introspection) was called.
    pub fn introspection_enabled(&self) -> bool {
        self.tracker().enabled()
    }

    /// What runs in this system now (see the [`introspect`](crate::introspect) module).
    pub fn snapshot(&self) -> Snapshot {
        self.tracker().snapshot(self)
    }

    /// The live actor with this id, if a snapshot would list it (tracked, named, or in a
    /// named actor's tree).
    pub fn actor(&self, id: crate::ActorId) -> Option<ActorCell> {
        if let Some(t) = lock(&self.tracker().actors).get(&id.local()) {
            if t.cell.id() == id {
                return Some(t.cell.clone());
            }
        }
        let mut stack: Vec<ActorCell> = self
            .registered()
            .into_iter()
            .filter_map(|n| self.where_is(n))
            .collect();
        while let Some(cell) = stack.pop() {
            if cell.id() == id {
                return Some(cell);
            }
            stack.extend(cell.children());
        }
        None
    }
}

/// Handler calls and nanoseconds per actor type, on one thread.
type Tally = HashMap<&'static str, (u64, u64)>;

thread_local! {
    /// Handler time per actor type on this thread (with the calls since the last flush,
    /// and when that was), flushed to the system every 256 calls or 10 ms.
    static BUSY: std::cell::RefCell<(Tally, u32, Option<Instant>)> =
        std::cell::RefCell::new((HashMap::new(), 0, None));
}

/// Adds one handler call of `nanos` to `type_name`'s tally on this thread, flushing the
/// tally to `tracker` now and then.
pub(crate) fn note_busy(tracker: &Tracker, type_name: &'static str, nanos: u64) {
    BUSY.with(|b| {
        let mut b = b.borrow_mut();
        let (tally, count, since) = &mut *b;
        let e = tally.entry(type_name).or_insert((0, 0));
        e.0 += 1;
        e.1 += nanos;
        *count += 1;
        let now = Instant::now();
        let last = *since.get_or_insert(now);
        if *count >= 256 || now.duration_since(last) >= Duration::from_millis(10) {
            tracker.add_busy(tally);
            *count = 0;
            *since = Some(now);
        }
    });
}

/// Flushes this thread's handler-time tally to `tracker` (the other threads' tallies
/// arrive with their next flush).
fn flush_busy(tracker: &Tracker) {
    BUSY.with(|b| {
        let mut b = b.borrow_mut();
        let (tally, count, since) = &mut *b;
        if !tally.is_empty() {
            tracker.add_busy(tally);
            *count = 0;
            *since = Some(Instant::now());
        }
    });
}

/// Hands every metric of `system`'s [`Snapshot::metrics`] to the `metrics` facade (gauges
/// set, counters raised to their totals), so the application's exporter has them. Call
/// it periodically (the observer does before each scrape), or use
/// [`spawn_metrics_publisher`].
#[cfg(feature = "metrics")]
pub fn publish_metrics(system: &ActorSystem) {
    for m in system.snapshot().metrics() {
        let labels: Vec<metrics::Label> = m
            .labels
            .iter()
            .map(|(k, v)| metrics::Label::new(*k, v.clone()))
            .collect();
        match m.kind {
            MetricKind::Counter => {
                metrics::counter!(m.name, labels).absolute(m.value as u64);
            }
            MetricKind::Gauge => metrics::gauge!(m.name, labels).set(m.value),
        }
    }
}

/// Enables introspection and publishes `system`'s metrics every `period` (see
/// [`publish_metrics`]) until the returned task is aborted. Needs a tokio runtime.
#[cfg(feature = "metrics")]
pub fn spawn_metrics_publisher(
    system: ActorSystem,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    system.enable_introspection();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period.max(Duration::from_millis(10)));
        loop {
            tick.tick().await;
            publish_metrics(&system);
        }
    })
}
