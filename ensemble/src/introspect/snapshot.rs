//! What a snapshot holds, and the metrics derived from it.

use std::time::{Duration, Instant, SystemTime};

use super::Tracker;
use crate::{ActorCell, ActorId, ActorStatus, MailboxStats};

/// A running system at one moment (see the [module](crate::introspect)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Snapshot {
    /// The system's name.
    pub system: String,
    /// When it was taken.
    pub taken_at: SystemTime,
    /// Since when every actor started is tracked (`None`: introspection is off, and only
    /// named actors and their trees are listed).
    pub tracking_since: Option<SystemTime>,
    /// The live actors, by id.
    pub actors: Vec<ActorInfo>,
    /// Actors that ended within the last minute ([`ENDED_WINDOW`](super::ENDED_WINDOW)),
    /// oldest first.
    pub ended: Vec<EndedActor>,
    /// Process groups: (scope, group, members).
    pub groups: Vec<(String, String, Vec<ActorId>)>,
    /// Dead letters by reason, since the system started.
    pub dead_letters: Vec<(String, u64)>,
    /// Dead letters in all.
    pub dead_letters_total: u64,
    /// Calls that timed out, since the system started.
    pub call_timeouts: u64,
    /// Totals per actor type (while tracking), by type name.
    pub types: Vec<(String, TypeTotals)>,
}

/// One live actor.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActorInfo {
    /// Its id.
    pub id: ActorId,
    /// Its registered name.
    pub name: Option<String>,
    /// Its Rust type (`std::any::type_name`), if it started while tracking.
    pub type_name: &'static str,
    /// Where it is in its life.
    pub status: ActorStatus,
    /// Its supervisor.
    pub parent: Option<ActorId>,
    /// Its linked children, in start order.
    pub children: Vec<ActorId>,
    /// How long it has run (zero if it started untracked).
    pub uptime: Duration,
    /// How many times its supervisor had restarted its slot when it started.
    pub restarts: u32,
    /// Its mailbox's counters and depth.
    pub mailbox: MailboxStats,
    /// How long its current handler has been running (`None` when idle, or untracked).
    pub busy_for: Option<Duration>,
}

impl ActorInfo {
    pub(super) fn of(
        cell: &ActorCell,
        tracked: Option<(&'static str, Duration, u32)>,
        tracker: &Tracker,
    ) -> ActorInfo {
        let (type_name, uptime, restarts) = tracked.unwrap_or(("?", Duration::ZERO, 0));
        let busy = cell.header().busy_since();
        let busy_for = (busy != 0 && tracker.enabled()).then(|| {
            let now = tracker.busy_stamp();
            Duration::from_millis(u64::from(now.saturating_sub(busy)))
        });
        ActorInfo {
            id: cell.id(),
            name: cell.name(),
            type_name,
            status: cell.status(),
            parent: cell.supervisor().map(|s| s.id()),
            children: cell.children().iter().map(ActorCell::id).collect(),
            uptime,
            restarts,
            mailbox: cell.stats(),
            busy_for,
        }
    }

    /// A short form of the type name: its last path segment, generics kept
    /// (`my_app::workers::Worker<u8>` → `Worker<u8>`).
    pub fn short_type(&self) -> &str {
        short_type(self.type_name)
    }
}

/// The last path segment of a type name, generics kept.
pub(crate) fn short_type(full: &str) -> &str {
    let head = full.split('<').next().unwrap_or(full);
    match head.rfind("::") {
        Some(i) => &full[i + 2..],
        None => full,
    }
}

/// An actor that ended recently.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EndedActor {
    /// Its id.
    pub id: ActorId,
    /// Its registered name.
    pub name: Option<String>,
    /// Its Rust type.
    pub type_name: &'static str,
    /// Its supervisor when it ended.
    pub parent: Option<ActorId>,
    /// How long it ran.
    pub lifetime: Duration,
    /// Its restart count when it started.
    pub restarts: u32,
    /// Whether it failed (an error or panic), rather than stopped or was killed.
    pub failed: bool,
    /// Why it ended (the exit reason's text).
    pub reason: String,
    /// When it ended.
    pub at: SystemTime,
    pub(super) ended: Instant,
    /// Its mailbox's final counters.
    pub mailbox: MailboxStats,
}

/// Totals for one actor type since tracking began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypeTotals {
    /// Actors started.
    pub started: u64,
    /// Ended by a stop (or a drain).
    pub stopped: u64,
    /// Ended by a failure (error or panic).
    pub failed: u64,
    /// Ended by a kill.
    pub killed: u64,
    /// Started by a supervisor as a restart.
    pub restarted: u64,
    /// Messages received, handled, rejected and shed by actors of the type that have
    /// ended (live ones are counted from their mailboxes).
    pub ended_received: u64,
    /// See `ended_received`.
    pub ended_handled: u64,
    /// See `ended_received`.
    pub ended_rejected: u64,
    /// See `ended_received`.
    pub ended_shed: u64,
    /// Handler calls timed, and their total time in nanoseconds.
    pub handler_calls: u64,
    /// See `handler_calls`.
    pub handler_nanos: u64,
}

/// A counter only grows; a gauge goes up and down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A running total.
    Counter,
    /// A level.
    Gauge,
}

/// One metric of a snapshot, in Prometheus style.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metric {
    /// Its name (`ensemble_...`).
    pub name: &'static str,
    /// What it means (for `# HELP`).
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: MetricKind,
    /// Its labels.
    pub labels: Vec<(&'static str, String)>,
    /// Its value.
    pub value: f64,
}

impl Snapshot {
    /// The snapshot as metrics, one per name and label set:
    ///
    /// | name | kind | labels |
    /// |---|---|---|
    /// | `ensemble_actors_alive` | gauge | `type` |
    /// | `ensemble_actors_started_total`, `_stopped_total`, `_failed_total`, `_killed_total`, `_restarted_total` | counter | `type` |
    /// | `ensemble_messages_received_total`, `_handled_total`, `_rejected_total`, `_shed_total` | counter | `type` |
    /// | `ensemble_mailbox_depth` (sum), `ensemble_mailbox_depth_max` | gauge | `type` |
    /// | `ensemble_handler_seconds_total`, `ensemble_handler_calls_total` | counter | `type` |
    /// | `ensemble_handler_busy_seconds_max` (the longest running handler now) | gauge | `type` |
    /// | `ensemble_dead_letters_total` | counter | `reason` |
    /// | `ensemble_call_timeouts_total` | counter | |
    ///
    /// `type` is the short type name ([`ActorInfo::short_type`]). Every name has the
    /// system's name as a `system` label too.
    pub fn metrics(&self) -> Vec<Metric> {
        use std::collections::BTreeMap;
        #[derive(Default)]
        struct Live {
            alive: f64,
            received: f64,
            handled: f64,
            rejected: f64,
            shed: f64,
            depth: f64,
            depth_max: f64,
            busy_max: f64,
        }
        let mut live: BTreeMap<&str, Live> = BTreeMap::new();
        for a in &self.actors {
            if a.type_name == "?" {
                continue;
            }
            let l = live.entry(short_type(a.type_name)).or_default();
            l.alive += 1.0;
            l.received += a.mailbox.received as f64;
            l.handled += a.mailbox.handled as f64;
            l.rejected += a.mailbox.rejected as f64;
            l.shed += a.mailbox.shed as f64;
            l.depth += a.mailbox.queued as f64;
            l.depth_max = l.depth_max.max(a.mailbox.queued as f64);
            l.busy_max = l.busy_max.max(a.busy_for.map_or(0.0, |d| d.as_secs_f64()));
        }
        let mut totals: BTreeMap<&str, TypeTotals> = BTreeMap::new();
        for (name, t) in &self.types {
            let e = totals.entry(short_type(name)).or_default();
            e.started += t.started;
            e.stopped += t.stopped;
            e.failed += t.failed;
            e.killed += t.killed;
            e.restarted += t.restarted;
            e.ended_received += t.ended_received;
            e.ended_handled += t.ended_handled;
            e.ended_rejected += t.ended_rejected;
            e.ended_shed += t.ended_shed;
            e.handler_calls += t.handler_calls;
            e.handler_nanos += t.handler_nanos;
        }
        let system = self.system.clone();
        let mut out = Vec::new();
        let mut push = |name, help, kind, labels: Vec<(&'static str, String)>, value: f64| {
            let mut labels = labels;
            labels.insert(0, ("system", system.clone()));
            out.push(Metric {
                name,
                help,
                kind,
                labels,
                value,
            });
        };
        use MetricKind::{Counter, Gauge};
        let types: std::collections::BTreeSet<&str> =
            live.keys().chain(totals.keys()).copied().collect();
        for ty in types {
            let l = live.get(ty);
            let t = totals.get(ty).copied().unwrap_or_default();
            let label = || vec![("type", ty.to_string())];
            let lv = |f: fn(&Live) -> f64| l.map_or(0.0, f);
            push(
                "ensemble_actors_alive",
                "Live actors.",
                Gauge,
                label(),
                lv(|l| l.alive),
            );
            push(
                "ensemble_actors_started_total",
                "Actors started.",
                Counter,
                label(),
                t.started as f64,
            );
            push(
                "ensemble_actors_stopped_total",
                "Actors that stopped.",
                Counter,
                label(),
                t.stopped as f64,
            );
            push(
                "ensemble_actors_failed_total",
                "Actors that failed (error or panic).",
                Counter,
                label(),
                t.failed as f64,
            );
            push(
                "ensemble_actors_killed_total",
                "Actors killed.",
                Counter,
                label(),
                t.killed as f64,
            );
            push(
                "ensemble_actors_restarted_total",
                "Actors started as a supervisor's restart.",
                Counter,
                label(),
                t.restarted as f64,
            );
            push(
                "ensemble_messages_received_total",
                "Messages accepted into mailboxes.",
                Counter,
                label(),
                lv(|l| l.received) + t.ended_received as f64,
            );
            push(
                "ensemble_messages_handled_total",
                "Messages whose handler returned.",
                Counter,
                label(),
                lv(|l| l.handled) + t.ended_handled as f64,
            );
            push(
                "ensemble_messages_rejected_total",
                "Messages refused by a full mailbox.",
                Counter,
                label(),
                lv(|l| l.rejected) + t.ended_rejected as f64,
            );
            push(
                "ensemble_messages_shed_total",
                "Messages shed by a full mailbox's overflow policy.",
                Counter,
                label(),
                lv(|l| l.shed) + t.ended_shed as f64,
            );
            push(
                "ensemble_mailbox_depth",
                "Messages waiting, summed over the type's actors.",
                Gauge,
                label(),
                lv(|l| l.depth),
            );
            push(
                "ensemble_mailbox_depth_max",
                "Messages waiting in the fullest mailbox of the type.",
                Gauge,
                label(),
                lv(|l| l.depth_max),
            );
            push(
                "ensemble_handler_seconds_total",
                "Time spent in handlers.",
                Counter,
                label(),
                t.handler_nanos as f64 / 1e9,
            );
            push(
                "ensemble_handler_calls_total",
                "Handler calls timed.",
                Counter,
                label(),
                t.handler_calls as f64,
            );
            push(
                "ensemble_handler_busy_seconds_max",
                "The longest-running current handler.",
                Gauge,
                label(),
                lv(|l| l.busy_max),
            );
        }
        for (reason, n) in &self.dead_letters {
            push(
                "ensemble_dead_letters_total",
                "Messages dropped undelivered.",
                Counter,
                vec![("reason", reason.clone())],
                *n as f64,
            );
        }
        push(
            "ensemble_call_timeouts_total",
            "Calls that timed out.",
            Counter,
            Vec::new(),
            self.call_timeouts as f64,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::short_type;

    #[test]
    fn short_type_keeps_the_last_segment_and_generics() {
        assert_eq!(short_type("a::b::Worker"), "Worker");
        assert_eq!(short_type("a::b::Worker<c::D>"), "Worker<c::D>");
        assert_eq!(short_type("Plain"), "Plain");
    }
}
