//! What the observer serves: the JSON form of a snapshot, and Prometheus text.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use ensemble::introspect::{MetricKind, Snapshot};
use serde::Serialize;

/// A cluster member as the page shows it (see [`ObserverBuilder::members`](crate::ObserverBuilder::members)).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberView {
    /// The node's name.
    pub name: String,
    /// Its incarnation.
    pub incarnation: u64,
    /// Its address.
    pub address: String,
    /// Its status (`Up`, `Leaving`, ...).
    pub status: String,
}

/// The JSON document of `/api/snapshot` and of each server-sent event.
#[derive(Debug, Serialize)]
pub(crate) struct SnapshotView {
    system: String,
    taken_at_ms: u64,
    tracking: bool,
    actions: bool,
    actors: Vec<ActorView>,
    ended: Vec<EndedView>,
    groups: Vec<GroupView>,
    dead_letters: Vec<Count>,
    dead_letters_total: u64,
    call_timeouts: u64,
    members: Vec<MemberView>,
}

#[derive(Debug, Serialize)]
struct ActorView {
    id: String,
    name: Option<String>,
    #[serde(rename = "type")]
    short_type: String,
    type_full: &'static str,
    status: String,
    parent: Option<String>,
    children: Vec<String>,
    uptime_ms: u64,
    restarts: u32,
    received: u64,
    handled: u64,
    rejected: u64,
    shed: u64,
    queued: usize,
    busy_ms: Option<u64>,
}

#[derive(Debug, Serialize)]
struct EndedView {
    id: String,
    name: Option<String>,
    #[serde(rename = "type")]
    short_type: String,
    parent: Option<String>,
    failed: bool,
    reason: String,
    restarts: u32,
    lifetime_ms: u64,
    at_ms: u64,
}

#[derive(Debug, Serialize)]
struct GroupView {
    scope: String,
    group: String,
    members: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Count {
    reason: String,
    count: u64,
}

fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn short(type_name: &str) -> String {
    let head = type_name.split('<').next().unwrap_or(type_name);
    match head.rfind("::") {
        Some(i) => type_name[i + 2..].to_string(),
        None => type_name.to_string(),
    }
}

impl SnapshotView {
    pub(crate) fn new(s: &Snapshot, actions: bool, members: Vec<MemberView>) -> SnapshotView {
        let duration_ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        SnapshotView {
            system: s.system.clone(),
            taken_at_ms: ms(s.taken_at),
            tracking: s.tracking_since.is_some(),
            actions,
            actors: s
                .actors
                .iter()
                .map(|a| ActorView {
                    id: a.id.to_string(),
                    name: a.name.clone(),
                    short_type: a.short_type().to_string(),
                    type_full: a.type_name,
                    status: format!("{:?}", a.status),
                    parent: a.parent.map(|p| p.to_string()),
                    children: a.children.iter().map(ToString::to_string).collect(),
                    uptime_ms: duration_ms(a.uptime),
                    restarts: a.restarts,
                    received: a.mailbox.received,
                    handled: a.mailbox.handled,
                    rejected: a.mailbox.rejected,
                    shed: a.mailbox.shed,
                    queued: a.mailbox.queued,
                    busy_ms: a.busy_for.map(duration_ms),
                })
                .collect(),
            ended: s
                .ended
                .iter()
                .map(|e| EndedView {
                    id: e.id.to_string(),
                    name: e.name.clone(),
                    short_type: short(e.type_name),
                    parent: e.parent.map(|p| p.to_string()),
                    failed: e.failed,
                    reason: e.reason.clone(),
                    restarts: e.restarts,
                    lifetime_ms: duration_ms(e.lifetime),
                    at_ms: ms(e.at),
                })
                .collect(),
            groups: s
                .groups
                .iter()
                .map(|(scope, group, members)| GroupView {
                    scope: scope.clone(),
                    group: group.clone(),
                    members: members.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            dead_letters: s
                .dead_letters
                .iter()
                .map(|(reason, count)| Count {
                    reason: reason.clone(),
                    count: *count,
                })
                .collect(),
            dead_letters_total: s.dead_letters_total,
            call_timeouts: s.call_timeouts,
            members,
        }
    }
}

/// Escapes a label value for the Prometheus text format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The snapshot's metrics in the Prometheus text format (version 0.0.4): one `# HELP`
/// and `# TYPE` per name, then its samples.
pub(crate) fn prometheus(s: &Snapshot) -> String {
    let mut out = String::new();
    let mut last = "";
    let mut metrics = s.metrics();
    // A metric's samples must be one group: by name (a stable sort keeps label order).
    metrics.sort_by(|a, b| a.name.cmp(b.name));
    for m in metrics {
        if m.name != last {
            let kind = match m.kind {
                MetricKind::Counter => "counter",
                MetricKind::Gauge => "gauge",
            };
            let _ = writeln!(out, "# HELP {} {}", m.name, m.help);
            let _ = writeln!(out, "# TYPE {} {kind}", m.name);
            last = m.name;
        }
        let labels: Vec<String> = m
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        let _ = writeln!(out, "{}{{{}}} {}", m.name, labels.join(","), m.value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn short_names_keep_generics() {
        assert_eq!(short("a::b::C<d::E>"), "C<d::E>");
    }
}
