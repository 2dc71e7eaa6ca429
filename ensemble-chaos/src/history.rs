//! The history checker: what every node logged, judged against the cluster's promises.
//!
//! | Promise | Checked as |
//! |---|---|
//! | no duplicate delivery | every message id is received at most once |
//! | FIFO per sender/receiver pair | each worker sees each sender's sequence numbers strictly increase |
//! | nothing from a quarantined incarnation | no message sent by an incarnation after the receiver declared it down is received by that receiver's incarnation |
//! | every monitor fires exactly once | at most once always; exactly once when the watcher's process lives to the end and the target's process died or left |
//! | every call resolves exactly once within its timeout plus a margin | one reply per call from a process that lived to the end, in time unless the caller was itself stopped meanwhile |
//!
//! Messages may be lost (delivery is at most once): they are counted, not failed.
//! Membership convergence is measured by the driver, which asks the nodes.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::protocol::{Event, Record};

/// Who wrote a record: a node process (its serial number in the run) or the driver.
pub type Writer = usize;

/// The writer id of the driver's own records.
pub const DRIVER: Writer = usize::MAX;

/// What the checker needs besides the records.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Processes that died (SIGKILL) or left before the end: no promise is owed to or by
    /// them after that.
    pub ended: HashSet<Writer>,
    /// Intervals (µs) during which a process was stopped (SIGSTOP to SIGCONT).
    pub stopped: HashMap<Writer, Vec<(u64, u64)>>,
    /// How late a call may resolve beyond its timeout (µs).
    pub call_margin_us: u64,
}

/// The checker's verdict.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Messages cast.
    pub sent: usize,
    /// Messages received.
    pub received: usize,
    /// Messages never received (at-most-once losses).
    pub lost: usize,
    /// Calls made, and how many succeeded.
    pub calls: usize,
    /// Calls that returned a reply.
    pub calls_ok: usize,
    /// Monitors set, and how many fired.
    pub monitors: usize,
    /// Monitors that fired.
    pub fired: usize,
    /// Broken promises, each with the evidence.
    pub violations: Vec<String>,
    /// For each injected fault: its name and the time (ms) from it to each monitor of a
    /// worker on the nodes it hit firing (before the next fault).
    pub fault_to_fire: Vec<(String, Vec<f64>)>,
}

impl Report {
    /// Whether every promise held.
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Summary figures of a set of durations: (count, min, median, max) in ms.
pub fn spread(ms: &[f64]) -> Option<(usize, f64, f64, f64)> {
    if ms.is_empty() {
        return None;
    }
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    Some((v.len(), v[0], v[v.len() / 2], v[v.len() - 1]))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "messages: {} sent, {} received, {} lost ({:.2}%)",
            self.sent,
            self.received,
            self.lost,
            if self.sent == 0 {
                0.0
            } else {
                self.lost as f64 * 100.0 / self.sent as f64
            }
        )?;
        writeln!(f, "calls: {} made, {} ok", self.calls, self.calls_ok)?;
        writeln!(f, "monitors: {} set, {} fired", self.monitors, self.fired)?;
        for (fault, ms) in &self.fault_to_fire {
            match spread(ms) {
                Some((n, min, med, max)) => writeln!(
                    f,
                    "{fault} -> monitors fired: {n}, min {min:.0} ms, median {med:.0} ms, max {max:.0} ms"
                )?,
                None => writeln!(f, "{fault} -> no monitor fired")?,
            }
        }
        if self.violations.is_empty() {
            write!(f, "history: every promise held")
        } else {
            writeln!(f, "history: {} violation(s):", self.violations.len())?;
            // A few of each kind (the text up to its first colon).
            let mut shown: HashMap<&str, usize> = HashMap::new();
            for v in &self.violations {
                let kind = v.split(':').next().unwrap_or(v);
                let n = shown.entry(kind).or_insert(0);
                *n += 1;
                if *n <= 5 {
                    writeln!(f, "  {v}")?;
                }
            }
            for (kind, n) in shown.iter().filter(|(_, n)| **n > 5) {
                writeln!(f, "  ... {n} in all of: {kind}")?;
            }
            Ok(())
        }
    }
}

/// Checks a run's records (each with its writer) against the promises.
pub fn check(records: &[(Writer, Record)], facts: &Facts) -> Report {
    let mut report = Report::default();
    let mut sends: HashMap<&str, (Writer, u64)> = HashMap::new();
    let mut recv_count: HashMap<&str, usize> = HashMap::new();
    let mut last_seq: HashMap<(&str, &str), u64> = HashMap::new();
    let mut calls: HashMap<(Writer, &str), (u64, u64)> = HashMap::new();
    let mut replies: HashMap<(Writer, &str), Vec<(u64, f64)>> = HashMap::new();
    let mut monitors: HashMap<(Writer, u64), (&str, u64)> = HashMap::new();
    let mut fires: HashMap<(Writer, u64), Vec<u64>> = HashMap::new();
    // (receiver writer, receiver incarnation, sender key) -> when it was declared down.
    let mut declared: HashMap<(Writer, u64, String), u64> = HashMap::new();
    // Which writer each worker key lives on.
    let mut owner: HashMap<String, Writer> = HashMap::new();
    let mut injected: Vec<(u64, String, Vec<String>)> = Vec::new();

    for (w, r) in records {
        match &r.event {
            Event::Send { id, .. } => {
                report.sent += 1;
                sends.insert(id, (*w, r.t));
            }
            Event::Recv { to, .. } => {
                owner.entry(to.clone()).or_insert(*w);
            }
            Event::Down {
                peer,
                peer_inc,
                quarantined: true,
                ..
            } => {
                declared
                    .entry((*w, r.inc, format!("{peer}#{peer_inc}")))
                    .or_insert(r.t);
            }
            Event::Injected { fault, nodes } if *w == DRIVER => {
                injected.push((r.t, fault.clone(), nodes.clone()));
            }
            _ => {}
        }
    }

    for (w, r) in records {
        match &r.event {
            Event::Recv { id, from, seq, to } => {
                report.received += 1;
                let n = recv_count.entry(id).or_insert(0);
                *n += 1;
                if *n == 2 {
                    report
                        .violations
                        .push(format!("duplicate delivery: {id} to {to}"));
                }
                let last = last_seq.entry((from, to)).or_insert(0);
                if *seq <= *last {
                    report.violations.push(format!(
                        "FIFO broken: {to} got #{seq} from {from} after #{last}"
                    ));
                }
                *last = (*last).max(*seq);
                if let (Some(down_at), Some((_, sent_at))) = (
                    declared.get(&(*w, r.inc, from.clone())),
                    sends.get(id.as_str()),
                ) {
                    if sent_at > down_at {
                        report.violations.push(format!(
                            "delivered from a quarantined incarnation: {id} from {from}, sent {} ms after {} declared it down",
                            (sent_at - down_at) / 1000,
                            r.node
                        ));
                    }
                }
            }
            Event::Call { id, timeout_ms, .. } => {
                report.calls += 1;
                calls.insert((*w, id), (r.t, timeout_ms * 1000));
            }
            Event::Reply {
                id,
                outcome,
                elapsed_ms,
            } => {
                if outcome == "ok" {
                    report.calls_ok += 1;
                }
                replies
                    .entry((*w, id))
                    .or_default()
                    .push((r.t, *elapsed_ms));
            }
            Event::Monitor { mid, target } => {
                report.monitors += 1;
                monitors.insert((*w, *mid), (target, r.t));
            }
            Event::Fired { mid, .. } => {
                report.fired += 1;
                fires.entry((*w, *mid)).or_default().push(r.t);
            }
            _ => {}
        }
    }

    report.lost = sends
        .keys()
        .filter(|id| !recv_count.contains_key(*id))
        .count();

    let stopped_during = |w: Writer, from: u64, to: u64| {
        facts
            .stopped
            .get(&w)
            .is_some_and(|spans| spans.iter().any(|(a, b)| *a < to && *b > from))
    };
    for ((w, id), (t, timeout_us)) in &calls {
        let got = replies.get(&(*w, *id)).map_or(&[][..], Vec::as_slice);
        match got {
            [] if facts.ended.contains(w) => {}
            [] => report.violations.push(format!("call never resolved: {id}")),
            [(at, elapsed)] => {
                let late = *elapsed * 1000.0 > (*timeout_us + facts.call_margin_us) as f64;
                if late && !stopped_during(*w, *t, *at) {
                    report.violations.push(format!(
                        "call resolved late: {id} after {elapsed:.0} ms (timeout {} ms)",
                        timeout_us / 1000
                    ));
                }
            }
            more => report.violations.push(format!(
                "call resolved more than once: {id}, {} times",
                more.len()
            )),
        }
    }

    for ((w, mid), (target, _)) in &monitors {
        let fired = fires.get(&(*w, *mid)).map_or(0, Vec::len);
        if fired > 1 {
            report.violations.push(format!(
                "monitor fired more than once: {mid} of {target}, {fired} times"
            ));
        }
        let target_gone = owner.get(*target).is_some_and(|o| facts.ended.contains(o));
        if fired == 0 && target_gone && !facts.ended.contains(w) {
            report.violations.push(format!(
                "monitor never fired: {mid} of {target}, though its process ended"
            ));
        }
    }
    for (w, mid) in fires.keys() {
        if !monitors.contains_key(&(*w, *mid)) {
            report
                .violations
                .push(format!("monitor fired but never set: {mid}"));
        }
    }

    injected.sort_by_key(|(at, _, _)| *at);
    let ends: Vec<u64> = injected
        .iter()
        .skip(1)
        .map(|(at, _, _)| *at)
        .chain(std::iter::once(u64::MAX))
        .collect();
    for ((at, fault, nodes), until) in injected.into_iter().zip(ends) {
        let mut ms = Vec::new();
        for ((w, mid), (target, set_at)) in &monitors {
            let on_hit = nodes
                .iter()
                .any(|n| target.split('#').next() == Some(n.as_str()));
            if !on_hit || *set_at > at {
                continue;
            }
            if let Some(t) = fires.get(&(*w, *mid)).and_then(|f| f.first()) {
                // Only what fired before the next fault is this fault's doing.
                if *t >= at && *t < until {
                    ms.push((*t - at) as f64 / 1000.0);
                }
            }
        }
        report
            .fault_to_fire
            .push((format!("{fault} {}", nodes.join(",")), ms));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: u64, node: &str, inc: u64, event: Event) -> Record {
        Record {
            t,
            node: node.into(),
            inc,
            event,
        }
    }

    fn send(id: &str, to: &str, seq: u64) -> Event {
        Event::Send {
            id: id.into(),
            to: to.into(),
            seq,
        }
    }

    fn recv(id: &str, from: &str, seq: u64, to: &str) -> Event {
        Event::Recv {
            id: id.into(),
            from: from.into(),
            seq,
            to: to.into(),
        }
    }

    fn facts() -> Facts {
        Facts {
            call_margin_us: 500_000,
            ..Facts::default()
        }
    }

    #[test]
    fn a_clean_history_holds_and_losses_are_counted_not_failed() {
        let records = vec![
            (0, rec(1, "a", 1, send("m1", "b#1/w0", 1))),
            (0, rec(2, "a", 1, send("m2", "b#1/w0", 2))),
            (1, rec(3, "b", 1, recv("m2", "a#1", 2, "b#1/w0"))),
        ];
        let r = check(&records, &facts());
        assert!(r.ok(), "{r}");
        assert_eq!((r.sent, r.received, r.lost), (2, 1, 1));
    }

    #[test]
    fn each_broken_promise_is_reported() {
        let records = vec![
            (0, rec(1, "a", 1, send("m1", "b#1/w0", 1))),
            (0, rec(2, "a", 1, send("m2", "b#1/w0", 2))),
            (1, rec(3, "b", 1, recv("m2", "a#1", 2, "b#1/w0"))),
            // Out of order, then twice.
            (1, rec(4, "b", 1, recv("m1", "a#1", 1, "b#1/w0"))),
            (1, rec(5, "b", 1, recv("m1", "a#1", 1, "b#1/w0"))),
            // b declares a#1 down at t=10; a message a#1 sent at t=11 still arrives.
            (
                1,
                rec(
                    10,
                    "b",
                    1,
                    Event::Down {
                        peer: "a".into(),
                        peer_inc: 1,
                        reason: "x".into(),
                        quarantined: true,
                    },
                ),
            ),
            (0, rec(11, "a", 1, send("m3", "b#1/w0", 3))),
            (1, rec(12, "b", 1, recv("m3", "a#1", 3, "b#1/w0"))),
            // A call that never resolves, one that resolves twice, one too late.
            (
                0,
                rec(
                    20,
                    "a",
                    1,
                    Event::Call {
                        id: "c1".into(),
                        to: "b#1/w0".into(),
                        timeout_ms: 1000,
                    },
                ),
            ),
            (
                0,
                rec(
                    21,
                    "a",
                    1,
                    Event::Call {
                        id: "c2".into(),
                        to: "b#1/w0".into(),
                        timeout_ms: 1000,
                    },
                ),
            ),
            (
                0,
                rec(
                    22,
                    "a",
                    1,
                    Event::Reply {
                        id: "c2".into(),
                        outcome: "ok".into(),
                        elapsed_ms: 1.0,
                    },
                ),
            ),
            (
                0,
                rec(
                    23,
                    "a",
                    1,
                    Event::Reply {
                        id: "c2".into(),
                        outcome: "ok".into(),
                        elapsed_ms: 2.0,
                    },
                ),
            ),
            (
                0,
                rec(
                    24,
                    "a",
                    1,
                    Event::Call {
                        id: "c3".into(),
                        to: "b#1/w0".into(),
                        timeout_ms: 1000,
                    },
                ),
            ),
            (
                0,
                rec(
                    3_000_000,
                    "a",
                    1,
                    Event::Reply {
                        id: "c3".into(),
                        outcome: "timeout".into(),
                        elapsed_ms: 2900.0,
                    },
                ),
            ),
            // A monitor that fires twice, one that never fires though its target died.
            (
                0,
                rec(
                    30,
                    "a",
                    1,
                    Event::Monitor {
                        mid: 1,
                        target: "b#1/w0".into(),
                    },
                ),
            ),
            (
                0,
                rec(
                    31,
                    "a",
                    1,
                    Event::Fired {
                        mid: 1,
                        reason: "x".into(),
                    },
                ),
            ),
            (
                0,
                rec(
                    32,
                    "a",
                    1,
                    Event::Fired {
                        mid: 1,
                        reason: "x".into(),
                    },
                ),
            ),
            (
                0,
                rec(
                    33,
                    "a",
                    1,
                    Event::Monitor {
                        mid: 2,
                        target: "b#1/w0".into(),
                    },
                ),
            ),
        ];
        let mut f = facts();
        f.ended.insert(1); // b's process died
        let r = check(&records, &f);
        let all = r.violations.join("\n");
        for expected in [
            "FIFO broken",
            "duplicate delivery: m1",
            "quarantined incarnation: m3",
            "call never resolved: c1",
            "call resolved more than once: c2, 2 times",
            "call resolved late: c3 after 2900 ms",
            "monitor fired more than once: 1 of b#1/w0, 2 times",
            "monitor never fired: 2 of b#1/w0",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        // A call whose caller was stopped meanwhile may be late.
        f.stopped.insert(0, vec![(100, 2_000_000)]);
        let r = check(&records, &f);
        assert!(!r.violations.join("\n").contains("c3"), "{r}");
    }
}
