//! Remote refs: how actor refs cross the wire and messages reach actors on other nodes.
//!
//! - **Out:** a ref to a remote actor is a typed proxy (made by the runtime,
//!   `ensemble::remote`), cached per remote actor and message type. Its messages come
//!   here in the peer's writer task, where each becomes a `Cast` or `Call` envelope; a
//!   call's reply ports wait in the table of pending replies under their tokens.
//! - **In:** an envelope for a local actor is decoded for the actor it names (only actors
//!   made reachable, by registering, joining a group or being sent in a message, are) and
//!   cast to it. A reply port in it becomes a sink that sends a `Reply` envelope back.
//! - **Failures:** a lost connection fails the calls in flight to that node
//!   (`ConnectionLost`); a node declared down fails them with `NodeDown` and stops its
//!   proxies, so their refs return `SendError::Closed` from then on.

mod spawn;
mod supervision;

pub(crate) use spawn::{SpawnFn, SpawnFuture, SpawnRequest};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use ensemble::remote::{
    Delivery, Exported, Outgoing, PendingReply, ProxyControl, ProxyTarget, ReplySink, WireContext,
    WireRef,
};
use ensemble::{ActorCell, ActorId, ActorStatus, ActorSystem, RemoteError};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::transport::{Handler, Lost, Peer, Transport};
use crate::wire::{Envelope, Status, SystemMsg};

/// What the remote layer tells the node about other nodes.
#[derive(Debug)]
pub(crate) enum Signal {
    /// The node said goodbye: it is leaving.
    Goodbye(String, u64),
    /// The node is gone (reconnecting was refused, or a newer incarnation answered).
    Gone(String, u64, Lost),
}

/// A call waiting for its reply.
struct Pending {
    node: String,
    incarnation: u64,
    /// When its caller stops waiting.
    deadline: Option<Instant>,
    reply: Box<dyn PendingReply>,
}

/// A proxy's key: the remote actor's node part and id, and its message type's wire name.
type ProxyKey = (u64, u64, &'static str);

/// The remote layer of one node.
pub(crate) struct Remote {
    pub(crate) name: String,
    /// This node's incarnation now (it changes when the node rejoins).
    incarnation: std::sync::atomic::AtomicU64,
    system: ActorSystem,
    proxy_capacity: usize,
    transport: OnceLock<Transport>,
    /// Local actors other nodes may reach, by local id.
    exports: Mutex<HashMap<u64, Arc<dyn Exported>>>,
    /// Calls waiting for replies, by token.
    pending: Mutex<HashMap<u64, Pending>>,
    /// Proxies, by (node part, actor id, wire name).
    proxies: Mutex<HashMap<ProxyKey, (ActorCell, Arc<ProxyControl>)>>,
    /// Local actors other nodes refer to for supervision (monitor targets, linked
    /// children and parents), by local id.
    known: Mutex<HashMap<u64, ActorCell>>,
    /// Remote monitors: (node, incarnation, remote target id) → local watchers.
    monitors: Mutex<HashMap<(String, u64, u64), Vec<ActorCell>>>,
    /// The node a remote actor id's node part stands for.
    nodes: Mutex<HashMap<u64, (String, u64)>>,
    /// Addresses of nodes, from membership.
    addrs: Mutex<HashMap<String, (u64, std::net::SocketAddr)>>,
    /// Actor kinds other nodes may start here, by their message type's wire name.
    spawnables: Mutex<HashMap<&'static str, SpawnFn>>,
    /// Spawns asked of other nodes, waiting for their answers, by token.
    spawns: Mutex<HashMap<u64, spawn::PendingSpawn>>,
    signals: mpsc::UnboundedSender<Signal>,
    me: Weak<Remote>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The node part of the ids of a remote node's actors: a hash of its name and
/// incarnation (never 0, which is the local node), the same on every node.
pub(crate) fn node_part(name: &str, incarnation: u64) -> u64 {
    // FNV-1a: stable across processes and builds (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain(incarnation.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h.max(1)
}

impl Remote {
    pub(crate) fn new(
        name: String,
        incarnation: u64,
        system: ActorSystem,
        proxy_capacity: usize,
        signals: mpsc::UnboundedSender<Signal>,
    ) -> Arc<Remote> {
        Arc::new_cyclic(|me| Remote {
            name,
            incarnation: std::sync::atomic::AtomicU64::new(incarnation),
            system,
            proxy_capacity,
            transport: OnceLock::new(),
            exports: Mutex::default(),
            pending: Mutex::default(),
            proxies: Mutex::default(),
            known: Mutex::default(),
            monitors: Mutex::default(),
            nodes: Mutex::default(),
            addrs: Mutex::default(),
            spawnables: Mutex::default(),
            spawns: Mutex::default(),
            signals,
            me: me.clone(),
        })
    }

    pub(crate) fn set_transport(&self, transport: Transport) {
        let _ = self.transport.set(transport);
    }

    pub(crate) fn transport(&self) -> Option<&Transport> {
        self.transport.get()
    }

    pub(super) fn context(&self) -> Option<Arc<dyn WireContext>> {
        self.me.upgrade().map(|me| me as Arc<dyn WireContext>)
    }

    /// Makes a local actor reachable from other nodes; its wire name.
    pub(crate) fn export_local(&self, export: Box<dyn Exported>) -> (u64, &'static str) {
        let cell = export.cell();
        let wire = export.wire_name();
        let id = cell.id().local();
        lock(&self.exports)
            .entry(id)
            .or_insert_with(|| Arc::from(export));
        (id, wire)
    }

    /// The exported local actor `id`, if it still runs (ended ones are forgotten).
    pub(crate) fn exported<R>(&self, id: u64, f: impl FnOnce(&dyn Exported) -> R) -> Option<R> {
        let export = {
            let mut exports = lock(&self.exports);
            match exports.get(&id) {
                Some(e) if e.is_alive() => e.clone(),
                Some(_) => {
                    exports.remove(&id);
                    return None;
                }
                None => return None,
            }
        };
        // Delivered without the table's lock: decoding and casting take their time.
        Some(f(export.as_ref()))
    }

    /// Learns (or updates) where a node is.
    pub(crate) fn node_seen(&self, name: &str, incarnation: u64, addr: std::net::SocketAddr) {
        lock(&self.addrs).insert(name.to_string(), (incarnation, addr));
        lock(&self.nodes).insert(
            node_part(name, incarnation),
            (name.to_string(), incarnation),
        );
        if let Some(peer) = self.transport().and_then(|t| t.existing(name)) {
            if peer.incarnation == incarnation {
                peer.set_addr(addr);
            }
        }
    }

    /// This node's incarnation now.
    pub(crate) fn incarnation(&self) -> u64 {
        self.incarnation.load(Ordering::Acquire)
    }

    /// This node starts over as `incarnation` (the cluster declared the old one down):
    /// every other node is down for it, without quarantine (they are alive; the new
    /// incarnation will meet them again).
    pub(crate) fn reincarnate(&self, incarnation: u64) {
        let mut nodes: Vec<(String, u64)> = lock(&self.nodes).values().cloned().collect();
        nodes.extend(lock(&self.addrs).drain().map(|(n, (i, _))| (n, i)));
        nodes.sort();
        nodes.dedup();
        for (name, inc) in nodes {
            self.node_down_with(&name, inc, false);
        }
        self.incarnation.store(incarnation, Ordering::Release);
        if let Some(t) = self.transport() {
            t.reincarnate(incarnation);
        }
    }

    /// A node is down for good: fail its calls, end its proxies, fire the monitors of its
    /// actors, drop its connection (and refuse that incarnation from now on).
    pub(crate) fn node_down(&self, name: &str, incarnation: u64) {
        self.node_down_with(name, incarnation, true);
    }

    fn node_down_with(&self, name: &str, incarnation: u64, quarantine: bool) {
        self.fail_pending(name, incarnation, |node| RemoteError::NodeDown { node });
        let part = node_part(name, incarnation);
        let ended: Vec<_> = {
            let mut proxies = lock(&self.proxies);
            let keys: Vec<_> = proxies.keys().filter(|k| k.0 == part).copied().collect();
            keys.iter().filter_map(|k| proxies.remove(k)).collect()
        };
        for (cell, control) in ended {
            if cell.supervisor().is_some() || !cell.children().is_empty() {
                // Linked: losing the node is a failure of the remote actor, which its
                // parent hears (and which stops its local children).
                ensemble::remote::fail_proxy(&cell, &control, ensemble::ExitReason::NoConnection);
            } else {
                // Closed to new messages at once (refs fail from now on); what is queued
                // is still taken, and its calls end with NodeDown.
                control.set_quiet();
                let _ = cell.drain();
            }
        }
        self.monitors_down(name, incarnation);
        self.fail_spawns(name, incarnation);
        if let Some(t) = self.transport() {
            t.remove(name, incarnation, quarantine);
        }
    }

    /// The local actor `id` if other nodes may refer to it.
    pub(crate) fn local_cell(&self, id: u64) -> Option<ActorCell> {
        if let Some(cell) = lock(&self.known).get(&id) {
            return Some(cell.clone());
        }
        self.exported(id, |e| e.cell())
    }

    /// Lets other nodes refer to `cell` (a local actor) for supervision.
    fn remember(&self, cell: &ActorCell) {
        let mut known = lock(&self.known);
        known.retain(|_, c| c.status().is_alive());
        known.insert(cell.id().local(), cell.clone());
    }

    /// The name and incarnation of the node a remote actor id is on.
    pub(crate) fn node_of(&self, id: ActorId) -> Option<(String, u64)> {
        lock(&self.nodes).get(&id.node()).cloned()
    }

    /// Ends every call waiting on (`name`, `incarnation`) with `error`.
    fn fail_pending(&self, name: &str, incarnation: u64, error: impl Fn(String) -> RemoteError) {
        let failed: Vec<Pending> = {
            let mut pending = lock(&self.pending);
            let tokens: Vec<u64> = pending
                .iter()
                .filter(|(_, p)| p.node == name && p.incarnation == incarnation)
                .map(|(t, _)| *t)
                .collect();
            tokens.iter().filter_map(|t| pending.remove(t)).collect()
        };
        if let Some(ctx) = self.context() {
            for p in failed {
                p.reply.complete(Err(error(name.to_string())), &ctx);
            }
        }
    }

    /// Forgets pending calls whose caller stopped waiting a while ago (a reply, if one
    /// ever comes, would find nobody). Run periodically.
    pub(crate) fn sweep(&self) {
        let grace = std::time::Duration::from_secs(5);
        let now = Instant::now();
        lock(&self.pending).retain(|_, p| p.deadline.is_none_or(|d| d + grace > now));
    }

    /// Calls waiting for replies (for tests and stats).
    pub(crate) fn pending_calls(&self) -> usize {
        lock(&self.pending).len()
    }

    /// A proxy (or the local actor) for `wire`.
    pub(super) fn import(
        &self,
        wire: &WireRef,
        make: fn(ProxyTarget) -> ActorCell,
    ) -> Result<ActorCell, String> {
        if wire.node == self.name {
            if wire.incarnation != self.incarnation() {
                return Err(format!(
                    "actor {} of an earlier incarnation of this node",
                    wire.actor
                ));
            }
            return self
                .exported(wire.actor, |e| e.cell())
                .ok_or_else(|| format!("no actor {} on this node any more", wire.actor));
        }
        let part = node_part(&wire.node, wire.incarnation);
        let wire_name: &'static str = leak_wire_name(&wire.wire_name);
        let key = (part, wire.actor, wire_name);
        if let Some((cell, _)) = lock(&self.proxies).get(&key) {
            if cell.status() != ActorStatus::Stopped {
                return Ok(cell.clone());
            }
        }
        lock(&self.nodes).insert(part, (wire.node.clone(), wire.incarnation));
        let context = self.context().ok_or("the node is shutting down")?;
        let addr = lock(&self.addrs)
            .get(&wire.node)
            .filter(|(inc, _)| *inc == wire.incarnation)
            .map(|(_, a)| *a);
        let transport = self.transport().ok_or("the node is shutting down")?;
        let outbox = match addr.and_then(|a| transport.peer(&wire.node, wire.incarnation, a)) {
            Some(peer) => peer.data.clone(),
            None => match transport.existing(&wire.node) {
                Some(peer) if peer.incarnation == wire.incarnation => peer.data.clone(),
                // Unknown or gone: a proxy whose queue is closed fails every message.
                _ => mpsc::channel(1).0,
            },
        };
        let control = Arc::new(ProxyControl::default());
        let cell = make(ProxyTarget {
            id: ActorId::new(part, wire.actor),
            node: wire.node.clone(),
            outbox,
            context,
            system: self.system.clone(),
            capacity: self.proxy_capacity,
            control: control.clone(),
        });
        lock(&self.proxies).insert(key, (cell.clone(), control));
        Ok(cell)
    }

    fn reply_frame(peer: &Peer, correlation: u64, status: Status, payload: &[u8]) {
        let mut body = Vec::with_capacity(16 + payload.len());
        let reply = Envelope::Reply {
            correlation,
            status,
            payload,
        };
        if reply.encode(&mut body).is_ok() {
            peer.send_frame(body);
        }
    }

    /// Handles a `Call` envelope for a local actor.
    fn call(
        self: &Arc<Self>,
        peer: &Arc<Peer>,
        target: u64,
        correlation: u64,
        timeout_ms: u32,
        wire_name: &str,
        payload: &[u8],
    ) {
        let deadline = (timeout_ms > 0)
            .then(|| Instant::now() + std::time::Duration::from_millis(u64::from(timeout_ms)));
        let inbound: Arc<dyn WireContext> = Arc::new(Inbound {
            remote: self.clone(),
            peer: peer.clone(),
            deadline,
            armed: Arc::new(AtomicBool::new(false)),
        });
        let result = self.exported(target, |e| {
            if e.wire_name() != wire_name {
                return Err(Delivery::Decode(format!(
                    "actor {target} takes {:?}, not {wire_name:?}",
                    e.wire_name()
                )));
            }
            e.deliver(payload, &inbound)
        });
        let (status, text) = match result {
            None => (Status::NoActor, String::new()),
            Some(Ok(())) => return,
            Some(Err(Delivery::Decode(why))) => (Status::DecodeError, why),
            Some(Err(Delivery::Full)) => (Status::Full, String::new()),
            Some(Err(_)) => (Status::NoActor, String::new()),
        };
        // The request went no further (its reply ports, if any were made, were dropped
        // unarmed and stayed silent): this reply says why.
        tracing::debug!(target: "ensemble::remote", from = %peer.name, target, ?status, %text,
            "call not delivered");
        Self::reply_frame(peer, correlation, status, text.as_bytes());
    }
}

/// Wire names arrive as text; proxies are keyed by a `&'static str`. Each distinct name is
/// interned once (a node sees a handful of message types).
fn leak_wire_name(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashMap<String, &'static str>>> = OnceLock::new();
    let mut names = lock(NAMES.get_or_init(Mutex::default));
    if let Some(n) = names.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(name.to_string(), leaked);
    leaked
}

impl WireContext for Remote {
    fn export(&self, actor: &ActorCell, export: Box<dyn Exported>) -> Result<WireRef, String> {
        let id = actor.id();
        let wire_name = export.wire_name().to_string();
        if id.is_local() {
            self.export_local(export);
            return Ok(WireRef {
                node: self.name.clone(),
                incarnation: self.incarnation(),
                actor: id.local(),
                wire_name,
            });
        }
        let (node, incarnation) = lock(&self.nodes)
            .get(&id.node())
            .cloned()
            .ok_or_else(|| format!("actor {id} is on a node this one does not know"))?;
        Ok(WireRef {
            node,
            incarnation,
            actor: id.local(),
            wire_name,
        })
    }

    fn import(
        &self,
        wire: &WireRef,
        proxy: fn(ProxyTarget) -> ActorCell,
    ) -> Result<ActorCell, String> {
        Remote::import(self, wire, proxy)
    }

    fn reply_sink(&self, _token: u64) -> Result<Box<dyn ReplySink>, String> {
        Err("a reply port can only arrive in a request from another node".into())
    }

    fn signal(&self, to: ActorId, signal: Outgoing) -> Result<(), Outgoing> {
        self.send_signal(to, signal)
    }
}

/// The context an inbound request decodes in: it knows where replies go.
struct Inbound {
    remote: Arc<Remote>,
    peer: Arc<Peer>,
    deadline: Option<Instant>,
    /// Set once the request is handed to its actor: from then on a reply port dropped
    /// without a reply tells the caller.
    armed: Arc<AtomicBool>,
}

impl WireContext for Inbound {
    fn export(&self, actor: &ActorCell, export: Box<dyn Exported>) -> Result<WireRef, String> {
        WireContext::export(&*self.remote, actor, export)
    }

    fn import(
        &self,
        wire: &WireRef,
        proxy: fn(ProxyTarget) -> ActorCell,
    ) -> Result<ActorCell, String> {
        self.remote.import(wire, proxy)
    }

    fn reply_sink(&self, token: u64) -> Result<Box<dyn ReplySink>, String> {
        Ok(Box::new(Sink {
            peer: self.peer.clone(),
            correlation: token,
            deadline: self.deadline,
            context: self.remote.context().ok_or("the node is shutting down")?,
            armed: self.armed.clone(),
            done: false,
        }))
    }

    fn delivering(&self, armed: bool) {
        self.armed.store(armed, Ordering::Release);
    }

    fn signal(&self, to: ActorId, signal: Outgoing) -> Result<(), Outgoing> {
        self.remote.send_signal(to, signal)
    }
}

/// Where one remote call's reply goes: a `Reply` envelope to the caller's node.
struct Sink {
    peer: Arc<Peer>,
    correlation: u64,
    deadline: Option<Instant>,
    context: Arc<dyn WireContext>,
    armed: Arc<AtomicBool>,
    done: bool,
}

impl ReplySink for Sink {
    fn reply(mut self: Box<Self>, reply: Result<Vec<u8>, RemoteError>) {
        self.done = true;
        match reply {
            Ok(bytes) => Remote::reply_frame(&self.peer, self.correlation, Status::Ok, &bytes),
            Err(e) => Remote::reply_frame(
                &self.peer,
                self.correlation,
                Status::EncodeError,
                e.to_string().as_bytes(),
            ),
        }
    }

    fn context(&self) -> Arc<dyn WireContext> {
        self.context.clone()
    }

    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if !self.done && self.armed.load(Ordering::Acquire) {
            Remote::reply_frame(&self.peer, self.correlation, Status::Dropped, &[]);
        }
    }
}

impl Handler for Remote {
    fn encode(&self, peer: &Arc<Peer>, out: Outgoing, body: &mut Vec<u8>) {
        let envelope_of = |body: &mut Vec<u8>, e: Envelope<'_>| {
            if let Err(why) = e.encode(body) {
                tracing::warn!(target: "ensemble::remote", peer = %peer.name, error = %why,
                    "message dropped: it does not fit the envelope");
            }
        };
        match out {
            Outgoing::Message {
                target,
                wire_name,
                payload,
                replies,
            } => match replies.first() {
                None => envelope_of(
                    body,
                    Envelope::Cast {
                        target,
                        sender: 0,
                        wire_name,
                        trace: &[],
                        payload: &payload,
                    },
                ),
                Some(first) => {
                    let correlation = first.token;
                    let timeout_ms = first.deadline.map_or(0, |d| {
                        let left = d.saturating_duration_since(Instant::now()).as_millis();
                        u32::try_from(left).unwrap_or(u32::MAX).max(1)
                    });
                    {
                        let mut pending = lock(&self.pending);
                        for taken in replies {
                            pending.insert(
                                taken.token,
                                Pending {
                                    node: peer.name.clone(),
                                    incarnation: peer.incarnation,
                                    deadline: taken.deadline,
                                    reply: taken.pending,
                                },
                            );
                        }
                    }
                    envelope_of(
                        body,
                        Envelope::Call {
                            target,
                            sender: 0,
                            correlation,
                            timeout_ms,
                            wire_name,
                            trace: &[],
                            payload: &payload,
                        },
                    );
                }
            },
            Outgoing::Stop { target } => envelope_of(body, Envelope::Stop { target }),
            other => {
                if let Some(msg) = self.signal_message(other) {
                    self.system_frame(body, &msg);
                }
            }
        }
    }

    fn frame(&self, peer: &Arc<Peer>, body: &[u8]) -> Result<(), String> {
        let Some(me) = self.me.upgrade() else {
            return Ok(());
        };
        match Envelope::decode(body).map_err(|e| e.to_string())? {
            Envelope::Cast {
                target,
                wire_name,
                payload,
                ..
            } => {
                let Some(ctx) = self.context() else {
                    return Ok(());
                };
                let result = self.exported(target, |e| {
                    if e.wire_name() != wire_name {
                        return Err(Delivery::Decode(format!(
                            "actor takes {:?}, not {wire_name:?}",
                            e.wire_name()
                        )));
                    }
                    e.deliver(payload, &ctx)
                });
                match result {
                    Some(Ok(())) => {}
                    Some(Err(Delivery::Decode(why))) => {
                        tracing::warn!(target: "ensemble::remote", from = %peer.name, target,
                            error = %why, "message from another node did not decode; dropped");
                    }
                    other => {
                        tracing::debug!(target: "ensemble::dead_letters", from = %peer.name, target,
                            outcome = ?other.map(|r| r.err()), "message from another node not delivered");
                    }
                }
            }
            Envelope::Call {
                target,
                correlation,
                timeout_ms,
                wire_name,
                payload,
                ..
            } => me.call(peer, target, correlation, timeout_ms, wire_name, payload),
            Envelope::Reply {
                correlation,
                status,
                payload,
            } => {
                let Some(pending) = lock(&self.pending).remove(&correlation) else {
                    return Ok(()); // its caller's call already ended
                };
                let Some(ctx) = self.context() else {
                    return Ok(());
                };
                let text = || String::from_utf8_lossy(payload).into_owned();
                match status {
                    Status::Ok => pending.reply.complete(Ok(payload), &ctx),
                    Status::Dropped => drop(pending),
                    Status::NoActor => pending.reply.complete(Err(RemoteError::NoActor), &ctx),
                    Status::DecodeError => pending
                        .reply
                        .complete(Err(RemoteError::Decode(text())), &ctx),
                    Status::EncodeError => pending
                        .reply
                        .complete(Err(RemoteError::Encode(text())), &ctx),
                    Status::Full => pending.reply.complete(Err(RemoteError::MailboxFull), &ctx),
                }
            }
            Envelope::Stop { target } => {
                if let Some(cell) = self.local_cell(target) {
                    cell.stop(None);
                }
            }
            Envelope::System { payload } => {
                let msg: SystemMsg = ensemble::remote::decode(payload)
                    .map_err(|e| format!("a system message that does not decode: {e}"))?;
                me.system(peer, msg);
            }
        }
        Ok(())
    }

    fn connected(&self, peer: &Arc<Peer>) {
        tracing::debug!(target: "ensemble::cluster", peer = %peer.name, "connection up");
    }

    fn goodbye(&self, peer: &Arc<Peer>) {
        // Calls in flight end now, as node-down, before the connection's close (which
        // follows the goodbye) could report them as a lost connection.
        self.fail_pending(&peer.name, peer.incarnation, |node| RemoteError::NodeDown {
            node,
        });
        let _ = self
            .signals
            .send(Signal::Goodbye(peer.name.clone(), peer.incarnation));
    }

    fn undelivered(&self, peer: &Arc<Peer>, out: Outgoing) {
        if let Some(ctx) = self.context() {
            out.fail(
                RemoteError::NodeDown {
                    node: peer.name.clone(),
                },
                &ctx,
            );
        }
    }

    fn lost(&self, peer: &Arc<Peer>, why: Lost) {
        // Whatever was in flight on the connection may be lost: end those calls now,
        // rather than leave them to their timeouts (or forever).
        self.fail_pending(&peer.name, peer.incarnation, |node| {
            RemoteError::ConnectionLost { node }
        });
        if why != Lost::Closed {
            let _ = self
                .signals
                .send(Signal::Gone(peer.name.clone(), peer.incarnation, why));
        }
    }
}
