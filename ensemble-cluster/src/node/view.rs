//! How a node keeps its view of the others: members up and down, the down markers it
//! publishes, and the rules that make a node rejoin as a new incarnation.

use std::collections::{HashMap, HashSet};
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{ClusterEvent, DOWN_PREFIX, DownReason, Inner, Member, MemberStatus, lock, now_ns};
use crate::membership::{LEAVING, LiveNodes, STATUS};
use crate::registry::Publish;
use crate::remote::Signal;
use crate::transport::Lost;

impl Inner {
    /// Declares (`name`, `incarnation`) down, once.
    fn declare_down(&self, name: &str, incarnation: u64, why: DownReason) {
        let member = {
            let mut members = lock(&self.members);
            if !members.down.insert((name.to_string(), incarnation)) {
                return;
            }
            match members.known.get(name) {
                Some(m) if m.incarnation == incarnation => members.known.remove(name),
                _ => None,
            }
        };
        self.remote.node_down(name, incarnation);
        if matches!(why, DownReason::Unreachable | DownReason::ConnectionLost) {
            // Told to the cluster: if that incarnation is alive after all (it hung, or
            // was cut off), it learns it was declared down and rejoins anew.
            let _ = self.publish.send(Publish::Set(
                format!("{DOWN_PREFIX}{name}"),
                incarnation.to_string(),
            ));
        }
        if let Some(mut member) = member {
            member.status = MemberStatus::Down;
            self.emit(ClusterEvent::NodeDown(member, why));
        }
    }

    /// Applies a new view of the live members.
    fn apply_live(&self, live: &LiveNodes) {
        let mut ups = Vec::new();
        let mut gone = Vec::new();
        {
            let mut members = lock(&self.members);
            let mut seen = HashSet::new();
            for (id, state) in live {
                let name: &str = &id.node_id;
                let incarnation = id.generation_id;
                if name == self.name || members.down.contains(&(name.to_string(), incarnation)) {
                    continue;
                }
                seen.insert(name.to_string());
                let leaving = state.get(STATUS) == Some(LEAVING);
                let status = if leaving {
                    MemberStatus::Leaving
                } else {
                    MemberStatus::Up
                };
                match members.known.get_mut(name) {
                    Some(m) if m.incarnation == incarnation => m.status = status,
                    Some(m) if m.incarnation > incarnation => {} // an older one, still gossiped
                    existing => {
                        if let Some(old) = existing {
                            gone.push((old.name.clone(), old.incarnation, DownReason::Restarted));
                        }
                        let member = Member {
                            name: name.to_string(),
                            incarnation,
                            address: id.gossip_advertise_addr,
                            status,
                        };
                        members.known.insert(name.to_string(), member.clone());
                        ups.push(member);
                    }
                }
                self.remote
                    .node_seen(name, incarnation, id.gossip_advertise_addr);
            }
            for m in members.known.values() {
                if !seen.contains(&m.name) {
                    let why = if m.status == MemberStatus::Leaving {
                        DownReason::Left
                    } else {
                        DownReason::Unreachable
                    };
                    gone.push((m.name.clone(), m.incarnation, why));
                }
            }
        }
        for (name, inc, why) in gone {
            self.declare_down(&name, inc, why);
        }
        for member in ups {
            self.emit(ClusterEvent::NodeUp(member));
        }
    }

    /// Whether the cluster's verdict goes against (`name`, `incarnation`), so that it
    /// must rejoin as a new incarnation. Live members accuse a node by publishing a down
    /// marker for it. It loses if its accusers outnumber the others (itself counting on
    /// its side), or on a tie, if one accusation is one-sided (it did not accuse that
    /// accuser back: a hung node's case) or, when all are mutual, if the smallest name is
    /// an accuser's. So in a split the smaller side rejoins and the larger one stays.
    fn loses(&self, live: &LiveNodes, name: &str, incarnation: u64) -> bool {
        let key = format!("{DOWN_PREFIX}{name}");
        // The newest incarnation of each other live member: does it accuse `name`, and
        // does `name` accuse it?
        let mut newest: HashMap<&str, (u64, bool)> = HashMap::new();
        let mut markers_of_name: Option<&chitchat::NodeState> = None;
        for (id, state) in live {
            if *id.node_id == *name {
                if id.generation_id == incarnation {
                    markers_of_name = Some(state);
                }
                continue;
            }
            let accuses = state.get(&key).and_then(|v| v.parse::<u64>().ok()) == Some(incarnation);
            let entry = newest
                .entry(&id.node_id)
                .or_insert((id.generation_id, accuses));
            if id.generation_id > entry.0 {
                *entry = (id.generation_id, accuses);
            }
        }
        let accused_back = |accuser: &str, inc: u64| {
            if name == self.name {
                return self.is_down(accuser, inc);
            }
            markers_of_name.is_some_and(|s| {
                s.get(&format!("{DOWN_PREFIX}{accuser}"))
                    .and_then(|v| v.parse::<u64>().ok())
                    == Some(inc)
            })
        };
        let accusers: Vec<(&str, u64)> = newest
            .iter()
            .filter(|(_, (_, accuses))| *accuses)
            .map(|(n, (inc, _))| (*n, *inc))
            .collect();
        if accusers.is_empty() {
            return false;
        }
        let supporters: Vec<&str> = newest
            .iter()
            .filter(|(_, (_, accuses))| !*accuses)
            .map(|(n, _)| *n)
            .chain(std::iter::once(name))
            .collect();
        match accusers.len().cmp(&supporters.len()) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                accusers.iter().any(|(n, inc)| !accused_back(n, *inc))
                    || accusers.iter().map(|(n, _)| *n).min() < supporters.iter().copied().min()
            }
        }
    }

    /// Whether the cluster declared this incarnation down (see [`loses`](Self::loses)).
    fn accused(&self, live: &LiveNodes) -> bool {
        self.loses(live, &self.name, self.incarnation())
    }

    /// Whether this node holds a stale accusation: an incarnation it declared down that
    /// keeps beating (its heartbeat has advanced for a while, as the others relay it)
    /// and that the cluster's verdict keeps (it does not lose). Then this node is the
    /// odd one out (it stalled, or alone lost sight of it) and must rejoin; otherwise it
    /// would stay cut off from a live member for good.
    async fn holds_stale_accusation(&self) -> bool {
        let accused: Vec<(String, u64)> = lock(&self.members).down.iter().cloned().collect();
        if accused.is_empty() {
            lock(&self.beats).clear();
            return false;
        }
        let now = tokio::time::Instant::now();
        let patience = self.gossip_interval * 10;
        let mut stale = Vec::new();
        for (name, inc) in accused {
            let Some(beat) = self.membership.live_heartbeat(&name, inc).await else {
                lock(&self.beats).remove(&(name, inc));
                continue;
            };
            let mut beats = lock(&self.beats);
            let (first, since) = *beats.entry((name.clone(), inc)).or_insert((beat, now));
            if beat >= first.saturating_add(5) && now.duration_since(since) >= patience {
                stale.push((name, inc));
            }
        }
        !stale.is_empty()
            && self.membership.with_live(|live| {
                stale
                    .iter()
                    .any(|(name, inc)| !self.loses(live, name, *inc))
            })
    }

    /// Starts over as a new incarnation (the cluster declared this one down, or this one
    /// holds a stale accusation): every member is down for it, its links and monitors
    /// across nodes fire, and it gossips anew with what it published (its names and
    /// groups), without its down markers.
    async fn reincarnate(&self, why: &str) {
        let old = self.incarnation();
        let new = now_ns().max(old.saturating_add(1));
        tracing::warn!(target: "ensemble::cluster", node = %self.name, old, new, reason = why,
            "rejoining the cluster as a new incarnation");
        let members: Vec<Member> = {
            let mut members = lock(&self.members);
            members.down.clear();
            members.known.drain().map(|(_, m)| m).collect()
        };
        lock(&self.beats).clear();
        self.incarnation.store(new, Ordering::Release);
        self.remote.reincarnate(new);
        for mut member in members {
            member.status = MemberStatus::Down;
            self.emit(ClusterEvent::NodeDown(member, DownReason::Isolated));
        }
        if let Err(e) = self.membership.restart(new, DOWN_PREFIX).await {
            tracing::error!(target: "ensemble::cluster", node = %self.name, error = %e,
                "could not gossip again; the node stays alone");
        }
        self.emit(ClusterEvent::Rejoined { incarnation: new });
    }

    fn apply_signal(&self, signal: Signal) {
        match signal {
            Signal::Goodbye(name, inc) => self.declare_down(&name, inc, DownReason::Left),
            Signal::Gone(name, inc, Lost::Replaced) => {
                self.declare_down(&name, inc, DownReason::Restarted)
            }
            Signal::Gone(name, inc, _) => self.declare_down(&name, inc, DownReason::ConnectionLost),
        }
    }
}

/// Applies membership changes and transport signals as they come, and checks once per
/// second for a stale accusation.
pub(super) async fn watch_members(
    inner: Weak<Inner>,
    mut live: watch::Receiver<LiveNodes>,
    mut signals: mpsc::UnboundedReceiver<Signal>,
) {
    let mut check = tokio::time::interval(Duration::from_secs(1));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            changed = live.changed() => {
                if changed.is_err() {
                    return;
                }
                let Some(inner) = inner.upgrade() else { return };
                let accused = {
                    let snapshot = live.borrow_and_update();
                    inner.apply_live(&snapshot);
                    inner.accused(&snapshot)
                };
                if accused && !inner.stopped.load(Ordering::Relaxed) {
                    inner
                        .reincarnate("the cluster declared this node down (it hung or was cut off)")
                        .await;
                }
            }
            signal = signals.recv() => {
                let (Some(signal), Some(inner)) = (signal, inner.upgrade()) else { return };
                inner.apply_signal(signal);
            }
            _ = check.tick() => {
                let Some(inner) = inner.upgrade() else { return };
                if !inner.stopped.load(Ordering::Relaxed) && inner.holds_stale_accusation().await {
                    inner
                        .reincarnate("a node this one declared down is alive for the rest of the cluster")
                        .await;
                }
            }
        }
    }
}
