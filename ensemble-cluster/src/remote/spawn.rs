//! Remote spawn: actors of kinds registered with a node, started from another node.
//!
//! The caller sends `Spawn` (the kind, a name, the encoded arguments and the parent to
//! link to); the node asked decodes the arguments, starts the actor (linked to a proxy
//! for the parent, so the link is mirrored back like any link across nodes), makes it
//! reachable and answers `Spawned` with its id. The mirrored link reaches the caller
//! first and links a stand-in proxy to the parent, so an early failure is not lost; the
//! answer replaces the stand-in with the typed proxy the caller gets back.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ensemble::remote::{ProxyTarget, WireContext, WireRef, link_here, same_cell, unlink_here};
use ensemble::{ActorCell, ActorSystem, RemoteError};
use tokio::sync::oneshot;

use super::{Remote, lock};
use crate::error::RemoteSpawnError;
use crate::transport::Peer;
use crate::wire::{Envelope, Refusal, SystemMsg};

/// What starting one actor of a registered kind returns: its local id, or why not.
pub(crate) type SpawnFuture = Pin<Box<dyn Future<Output = Result<u64, Refusal>> + Send>>;

/// Starts one actor of a registered kind.
pub(crate) type SpawnFn = Arc<dyn Fn(SpawnRequest) -> SpawnFuture + Send + Sync>;

/// One request to start an actor of a registered kind here.
pub(crate) struct SpawnRequest {
    /// The encoded arguments.
    pub(crate) args: Vec<u8>,
    /// The name to register it under, if any.
    pub(crate) name: Option<String>,
    /// The (local or proxy) actor to link it to, if any.
    pub(crate) parent: Option<ActorCell>,
    /// The context to decode the arguments in.
    pub(crate) context: Arc<dyn WireContext>,
    /// The system to start it in.
    pub(crate) system: ActorSystem,
}

/// A spawn this node asked another node for, waiting for the answer.
pub(crate) struct PendingSpawn {
    node: String,
    incarnation: u64,
    wire_name: &'static str,
    make: fn(ProxyTarget) -> ActorCell,
    parent: Option<ActorCell>,
    done: oneshot::Sender<Result<ActorCell, RemoteSpawnError>>,
}

/// Tokens of spawn requests (unique per node).
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

impl Remote {
    /// Registers a kind this node can start for others; `false` if the kind is taken.
    pub(crate) fn add_spawnable(&self, kind: &'static str, start: SpawnFn) -> bool {
        let mut kinds = lock(&self.spawnables);
        if kinds.contains_key(kind) {
            return false;
        }
        kinds.insert(kind, start);
        true
    }

    /// The starter of `kind` on this node, if registered.
    pub(crate) fn spawnable(&self, kind: &str) -> Option<SpawnFn> {
        lock(&self.spawnables).get(kind).cloned()
    }

    /// Asks (`node`, `incarnation`) to start an actor of `kind` (the message type's wire
    /// name), linked to `parent` if given, and waits up to `timeout` for the typed proxy
    /// (made by `make`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn request_spawn(
        &self,
        node: &str,
        incarnation: u64,
        kind: &'static str,
        name: Option<String>,
        args: Vec<u8>,
        parent: Option<ActorCell>,
        make: fn(ProxyTarget) -> ActorCell,
        timeout: std::time::Duration,
    ) -> Result<ActorCell, RemoteSpawnError> {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        let (done, answer) = oneshot::channel();
        if let Some(parent) = &parent {
            // The node asked refers to the parent by id, in the link it mirrors back.
            self.remember(parent);
        }
        let msg = SystemMsg::Spawn {
            token,
            kind: kind.to_string(),
            name,
            args,
            parent: parent.as_ref().map(|p| p.id().local()),
        };
        lock(&self.spawns).insert(
            token,
            PendingSpawn {
                node: node.to_string(),
                incarnation,
                wire_name: kind,
                make,
                parent,
                done,
            },
        );
        if !self.send_system(node, incarnation, &msg) {
            lock(&self.spawns).remove(&token);
            return Err(RemoteSpawnError::Remote(RemoteError::Unreachable {
                node: node.to_string(),
            }));
        }
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RemoteSpawnError::Shutdown),
            Err(_) => {
                lock(&self.spawns).remove(&token);
                Err(RemoteSpawnError::Timeout {
                    node: node.to_string(),
                })
            }
        }
    }

    /// Fails the spawns waiting on (`node`, `incarnation`): it is down.
    pub(crate) fn fail_spawns(&self, node: &str, incarnation: u64) {
        let failed: Vec<PendingSpawn> = {
            let mut spawns = lock(&self.spawns);
            let tokens: Vec<u64> = spawns
                .iter()
                .filter(|(_, s)| s.node == node && s.incarnation == incarnation)
                .map(|(t, _)| *t)
                .collect();
            tokens.iter().filter_map(|t| spawns.remove(t)).collect()
        };
        for s in failed {
            let _ = s
                .done
                .send(Err(RemoteSpawnError::Remote(RemoteError::NodeDown {
                    node: node.to_string(),
                })));
        }
    }

    /// Another node asks this one to start an actor.
    pub(super) fn spawn_requested(
        self: &Arc<Self>,
        peer: &Arc<Peer>,
        token: u64,
        kind: &str,
        name: Option<String>,
        args: Vec<u8>,
        parent: Option<u64>,
    ) {
        let (node, inc) = (peer.name.clone(), peer.incarnation);
        let kind_text = kind.to_string();
        let answer = move |remote: &Remote, result: Result<u64, Refusal>| {
            if let Err(why) = &result {
                tracing::debug!(target: "ensemble::remote", from = %node, kind = %kind_text, ?why,
                    "spawn refused");
            }
            remote.send_system(&node, inc, &SystemMsg::Spawned { token, result });
        };
        let node = peer.name.clone();
        let Some(start) = self.spawnable(kind) else {
            return answer(self, Err(Refusal::NotSpawnable));
        };
        let parent = match parent {
            None => None,
            Some(id) => match self.supervision_proxy(&node, inc, id) {
                Some(proxy) => Some(proxy),
                None => return answer(self, Err(Refusal::ShuttingDown)),
            },
        };
        let Some(context) = self.context() else {
            return answer(self, Err(Refusal::ShuttingDown));
        };
        let request = SpawnRequest {
            args,
            name,
            parent,
            context,
            system: self.system.clone(),
        };
        let me = self.clone();
        tokio::spawn(async move {
            let result = start(request).await;
            answer(&me, result);
        });
    }

    /// The answer to a spawn this node asked for.
    pub(super) fn spawned(&self, peer: &Arc<Peer>, token: u64, result: Result<u64, Refusal>) {
        let pending = {
            let mut spawns = lock(&self.spawns);
            match spawns.get(&token) {
                Some(s) if s.node == peer.name && s.incarnation == peer.incarnation => {
                    spawns.remove(&token)
                }
                _ => None,
            }
        };
        let Some(pending) = pending else {
            if let Ok(id) = result {
                // Its caller stopped waiting: the actor nobody will hear of is stopped.
                tracing::debug!(target: "ensemble::remote", node = %peer.name, actor = id,
                    "late spawn answer; stopping the actor");
                let mut body = Vec::new();
                if (Envelope::Stop { target: id }).encode(&mut body).is_ok() {
                    peer.send_frame(body);
                }
            }
            return;
        };
        let node = pending.node.clone();
        let outcome = match result {
            Ok(id) => self.adopt_spawned(&pending, id),
            Err(Refusal::NotSpawnable) => Err(RemoteSpawnError::NotSpawnable {
                node,
                kind: pending.wire_name.to_string(),
            }),
            Err(Refusal::AlreadyRegistered(name)) => {
                Err(RemoteSpawnError::AlreadyRegistered { node, name })
            }
            Err(Refusal::Arguments(why)) => Err(RemoteSpawnError::Arguments(why)),
            Err(Refusal::StartupFailed(reason)) => {
                Err(RemoteSpawnError::StartupFailed { node, reason })
            }
            Err(Refusal::ShuttingDown) => Err(RemoteSpawnError::Shutdown),
        };
        let _ = pending.done.send(outcome);
    }

    /// Makes the typed proxy of a remote actor just spawned and links it to its parent in
    /// place of the stand-in the mirrored link made.
    fn adopt_spawned(
        &self,
        pending: &PendingSpawn,
        id: u64,
    ) -> Result<ActorCell, RemoteSpawnError> {
        let wire = WireRef {
            node: pending.node.clone(),
            incarnation: pending.incarnation,
            actor: id,
            wire_name: pending.wire_name.to_string(),
        };
        let typed = self.import(&wire, pending.make).map_err(|why| {
            RemoteSpawnError::Remote(RemoteError::Decode(format!("spawned actor: {why}")))
        })?;
        let Some(parent) = &pending.parent else {
            return Ok(typed);
        };
        let stand_in = parent
            .children()
            .into_iter()
            .find(|c| c.id() == typed.id() && !same_cell(c, &typed));
        match stand_in {
            Some(stand_in) => {
                unlink_here(&stand_in, parent);
                if let Some(control) = self.control_of(&stand_in) {
                    control.set_quiet();
                }
                stand_in.stop(None);
                link_here(&typed, parent);
                Ok(typed)
            }
            None if parent.children().iter().any(|c| same_cell(c, &typed)) => Ok(typed),
            None => {
                // The actor already ended, and its parent heard (through the stand-in).
                if let Some(control) = self.control_of(&typed) {
                    control.set_quiet();
                }
                typed.stop(None);
                Err(RemoteSpawnError::StartupFailed {
                    node: pending.node.clone(),
                    reason: "the actor ended before its start was confirmed".into(),
                })
            }
        }
    }
}
