//! Supervision across nodes: remote monitors and links, and how a node's loss reaches
//! them.
//!
//! - **Monitors**: a local watcher of a remote actor is recorded here and the target's node
//!   told (`Monitor`); there, a proxy for the watcher monitors the target like any local
//!   watcher, and its `ActorDown` comes back (`Down`). The record is removed when the event
//!   is delivered, so a `Down` and the node's loss (`NoConnection`) never both arrive.
//! - **Links**: a link made between a local and a remote actor is mirrored on the other
//!   node with a proxy for the local one (`Link`), so each side sees the other as a
//!   linked actor. A child's start and end travel back to its parent (`Exit`), where the
//!   proxy for the child ends the same way (failing with a `RemoteExit`, stopping or
//!   being killed), so the parent hears it through the ordinary supervision path.

use std::sync::Arc;

use ensemble::remote::{
    ChildExit, Distribution, EventsOnly, Outgoing, ProxyControl, WireContext, WireRef,
    deliver_down, deliver_started, fail_proxy, link_here, proxy_factory, unlink_here,
};
use ensemble::{ActorCell, ActorId, ExitReason};

use super::{Remote, lock, node_part};
use crate::transport::Peer;
use crate::wire::SystemMsg;

impl Remote {
    /// A proxy for actor `id` on (`node`, `incarnation`) that carries supervision only
    /// (the one already made for it, whatever its message type, if there is one).
    pub(super) fn supervision_proxy(
        &self,
        node: &str,
        incarnation: u64,
        id: u64,
    ) -> Option<ActorCell> {
        let part = node_part(node, incarnation);
        if let Some(cell) = lock(&self.proxies)
            .iter()
            .find(|((p, a, _), (c, _))| *p == part && *a == id && c.status().is_alive())
            .map(|(_, (c, _))| c.clone())
        {
            return Some(cell);
        }
        let wire = WireRef {
            node: node.to_string(),
            incarnation,
            actor: id,
            wire_name: <EventsOnly as ensemble::remote::RemoteMessage>::WIRE_NAME.to_string(),
        };
        WireContext::import(self, &wire, proxy_factory::<EventsOnly>).ok()
    }

    /// Sends a system message to (`node`, `incarnation`); `false` if there is no way to.
    pub(super) fn send_system(&self, node: &str, incarnation: u64, msg: &SystemMsg) -> bool {
        let addr = lock(&self.addrs)
            .get(node)
            .filter(|(inc, _)| *inc == incarnation)
            .map(|(_, a)| *a);
        let Some(transport) = self.transport() else {
            return false;
        };
        let peer = match addr {
            Some(addr) => transport.peer(node, incarnation, addr),
            None => transport
                .existing(node)
                .filter(|p| p.incarnation == incarnation),
        };
        let Some(peer) = peer else {
            return false;
        };
        let mut body = Vec::new();
        msg.encode(&mut body).is_ok() && peer.send_frame(body)
    }

    /// Appends `msg` as a frame body (for the writer).
    pub(super) fn system_frame(&self, body: &mut Vec<u8>, msg: &SystemMsg) {
        if let Err(why) = msg.encode(body) {
            tracing::warn!(target: "ensemble::remote", error = %why, "system message dropped");
        }
    }

    /// The cluster's hold on a proxy it made.
    pub(super) fn control_of(&self, proxy: &ActorCell) -> Option<Arc<ProxyControl>> {
        lock(&self.proxies)
            .values()
            .find(|(c, _)| ensemble::remote::same_cell(c, proxy))
            .map(|(_, control)| control.clone())
    }

    /// The system message for a proxy's supervision signal.
    pub(super) fn signal_message(&self, signal: Outgoing) -> Option<SystemMsg> {
        match signal {
            Outgoing::Down {
                watcher,
                target,
                reason,
            } => {
                if let Some(cell) = self.local_cell(target) {
                    self.remember(&cell);
                }
                Some(SystemMsg::Down {
                    watcher,
                    target,
                    reason,
                })
            }
            Outgoing::Exit {
                parent,
                child,
                exit,
            } => Some(SystemMsg::Exit {
                parent,
                child,
                exit,
            }),
            _ => None,
        }
    }

    /// Sends a proxy's supervision signal about remote actor `to` on the system path.
    pub(super) fn send_signal(&self, to: ActorId, signal: Outgoing) -> Result<(), Outgoing> {
        let Some((node, inc)) = self.node_of(to) else {
            return Err(signal);
        };
        match self.signal_message(signal) {
            Some(msg) => {
                self.send_system(&node, inc, &msg);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Fires every monitor of an actor on (`node`, `incarnation`) with `NoConnection`.
    pub(super) fn monitors_down(&self, node: &str, incarnation: u64) {
        let fired: Vec<((String, u64, u64), Vec<ActorCell>)> = {
            let mut monitors = lock(&self.monitors);
            let keys: Vec<_> = monitors
                .keys()
                .filter(|(n, i, _)| n == node && *i == incarnation)
                .cloned()
                .collect();
            keys.into_iter()
                .filter_map(|k| monitors.remove(&k).map(|w| (k, w)))
                .collect()
        };
        for ((node, inc, target), watchers) in fired {
            let Some(cell) = self.supervision_proxy(&node, inc, target) else {
                continue;
            };
            for watcher in watchers {
                deliver_down(&watcher, cell.clone(), ExitReason::NoConnection);
            }
        }
    }

    /// A system message from `peer`.
    pub(super) fn system(self: &Arc<Self>, peer: &Arc<Peer>, msg: SystemMsg) {
        let (node, inc) = (peer.name.as_str(), peer.incarnation);
        match msg {
            SystemMsg::Monitor { watcher, target } => {
                let Some(proxy) = self.supervision_proxy(node, inc, watcher) else {
                    return;
                };
                match self.local_cell(target) {
                    // The proxy watches like a local watcher; its ActorDown is sent back.
                    Some(cell) => proxy.monitor(cell),
                    None => {
                        let down = SystemMsg::Down {
                            watcher,
                            target,
                            reason: ExitReason::NoProc,
                        };
                        self.send_system(node, inc, &down);
                    }
                }
            }
            SystemMsg::Demonitor { watcher, target } => {
                if let (Some(proxy), Some(cell)) = (
                    self.supervision_proxy(node, inc, watcher),
                    self.local_cell(target),
                ) {
                    proxy.demonitor(cell);
                }
            }
            SystemMsg::Down {
                watcher,
                target,
                reason,
            } => {
                let watcher_cell = {
                    let mut monitors = lock(&self.monitors);
                    let key = (node.to_string(), inc, target);
                    let Some(list) = monitors.get_mut(&key) else {
                        return; // demonitored, or already fired
                    };
                    let found = list
                        .iter()
                        .position(|w| w.id().local() == watcher)
                        .map(|i| list.remove(i));
                    if list.is_empty() {
                        monitors.remove(&key);
                    }
                    found
                };
                if let (Some(w), Some(t)) =
                    (watcher_cell, self.supervision_proxy(node, inc, target))
                {
                    deliver_down(&w, t, reason);
                }
            }
            SystemMsg::Link {
                child,
                parent,
                child_on_sender,
            } => {
                if let Some((c, p)) = self.link_ends(node, inc, child, parent, child_on_sender) {
                    link_here(&c, &p);
                }
            }
            SystemMsg::Unlink {
                child,
                parent,
                child_on_sender,
            } => {
                if let Some((c, p)) = self.link_ends(node, inc, child, parent, child_on_sender) {
                    unlink_here(&c, &p);
                }
            }
            SystemMsg::Exit {
                parent,
                child,
                exit,
            } => self.child_exit(node, inc, parent, child, exit),
            SystemMsg::Spawn {
                token,
                kind,
                name,
                args,
                parent,
            } => self.spawn_requested(peer, token, &kind, name, args, parent),
            SystemMsg::Spawned { token, result } => self.spawned(peer, token, result),
        }
    }

    /// The two ends of a link the other node made: (child, parent) as cells here.
    fn link_ends(
        &self,
        node: &str,
        inc: u64,
        child: u64,
        parent: u64,
        child_on_sender: bool,
    ) -> Option<(ActorCell, ActorCell)> {
        if child_on_sender {
            Some((
                self.supervision_proxy(node, inc, child)?,
                self.local_cell(parent)?,
            ))
        } else {
            Some((
                self.local_cell(child)?,
                self.supervision_proxy(node, inc, parent)?,
            ))
        }
    }

    /// A remote child of a local parent started or ended: its proxy there ends the same
    /// way, so the parent hears it as from any child.
    fn child_exit(&self, node: &str, inc: u64, parent: u64, child: u64, exit: ChildExit) {
        let Some(parent) = self.local_cell(parent) else {
            return;
        };
        let id = ensemble::ActorId::new(node_part(node, inc), child);
        let Some(proxy) = parent.children().into_iter().find(|c| c.id() == id) else {
            return;
        };
        let control = self.control_of(&proxy).unwrap_or_default();
        match exit {
            ChildExit::Started => deliver_started(&parent, proxy),
            ChildExit::Failed(text) => fail_proxy(&proxy, &control, ExitReason::Failed(text)),
            ChildExit::Stopped(reason) => {
                control.set_quiet();
                proxy.stop(reason);
            }
            ChildExit::Killed => {
                control.set_quiet();
                proxy.kill();
            }
            _ => {}
        }
    }
}

impl Distribution for Remote {
    fn monitor(&self, watcher: &ActorCell, target: &ActorCell) {
        let Some((node, inc)) = self.node_of(target.id()) else {
            deliver_down(watcher, target.clone(), ExitReason::NoConnection);
            return;
        };
        self.remember(watcher);
        lock(&self.monitors)
            .entry((node.clone(), inc, target.id().local()))
            .or_default()
            .push(watcher.clone());
        let msg = SystemMsg::Monitor {
            watcher: watcher.id().local(),
            target: target.id().local(),
        };
        if !self.send_system(&node, inc, &msg) {
            // No way to its node (down, or never known): the monitor fires now, once.
            let removed = {
                let mut monitors = lock(&self.monitors);
                let key = (node, inc, target.id().local());
                let list = monitors.get_mut(&key);
                let removed = list.is_some_and(|l| {
                    let before = l.len();
                    l.retain(|w| w != watcher);
                    l.len() < before
                });
                if monitors.get(&key).is_some_and(Vec::is_empty) {
                    monitors.remove(&key);
                }
                removed
            };
            if removed {
                deliver_down(watcher, target.clone(), ExitReason::NoConnection);
            }
        }
    }

    fn demonitor(&self, watcher: &ActorCell, target: &ActorCell) {
        let Some((node, inc)) = self.node_of(target.id()) else {
            return;
        };
        {
            let mut monitors = lock(&self.monitors);
            let key = (node.clone(), inc, target.id().local());
            if let Some(list) = monitors.get_mut(&key) {
                list.retain(|w| w != watcher);
                if list.is_empty() {
                    monitors.remove(&key);
                }
            }
        }
        let msg = SystemMsg::Demonitor {
            watcher: watcher.id().local(),
            target: target.id().local(),
        };
        self.send_system(&node, inc, &msg);
    }

    fn link(&self, child: &ActorCell, parent: &ActorCell) {
        if let Some((node, inc, msg)) = self.link_message(child, parent, true) {
            self.send_system(&node, inc, &msg);
        }
    }

    fn unlink(&self, child: &ActorCell, parent: &ActorCell) {
        if let Some((node, inc, msg)) = self.link_message(child, parent, false) {
            self.send_system(&node, inc, &msg);
        }
    }
}

impl Remote {
    /// The `Link` (or `Unlink`) for a link between a local and a remote actor, and where it
    /// goes.
    fn link_message(
        &self,
        child: &ActorCell,
        parent: &ActorCell,
        link: bool,
    ) -> Option<(String, u64, SystemMsg)> {
        let (local, remote, child_on_sender) = match (child.id().is_local(), parent.id().is_local())
        {
            (true, false) => (child, parent, true),
            (false, true) => (parent, child, false),
            _ => return None,
        };
        let (node, inc) = self.node_of(remote.id())?;
        self.remember(local);
        let (c, p) = (child.id().local(), parent.id().local());
        let msg = if link {
            SystemMsg::Link {
                child: c,
                parent: p,
                child_on_sender,
            }
        } else {
            SystemMsg::Unlink {
                child: c,
                parent: p,
                child_on_sender,
            }
        };
        Some((node, inc, msg))
    }
}
