//! The cluster-wide registry and process groups: each node publishes the names and group
//! memberships of its own actors in its gossip state, and every node reads everyone's.
//!
//! Keys in a node's state: `r:<name>` = `<actor id>:<wire name>` for a registered name,
//! `g:<group>:<actor id>` = `<wire name>` for a group member. A node that dies or leaves
//! takes its keys with it (only live members' states are read). Gossip spreads a change
//! in a few gossip intervals; until then other nodes see the old state.
//!
//! Names are unique per node, not across the cluster: two nodes may publish the same
//! name, and lookups then pick the one on the node with the smallest name (the same choice
//! on every node), with a warning.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ensemble::remote::{RemoteMessage, WireRef, export, proxy_factory};
use ensemble::{ActorCell, ActorRef};
use tokio::sync::mpsc;

use crate::ClusterError;
use crate::membership::LiveNodes;
use crate::remote::Remote;

/// A change to publish in this node's state, applied in order by one task.
#[derive(Debug)]
pub(crate) enum Publish {
    Set(String, String),
    Delete(String),
}

fn name_key(name: &str) -> String {
    format!("r:{name}")
}

fn member_key(group: &str, id: u64) -> String {
    format!("g:{group}:{id}")
}

/// This node's side of the registry.
#[derive(Default)]
pub(crate) struct Registry {
    names: Mutex<HashMap<String, ActorCell>>,
    groups: Mutex<HashMap<String, Vec<ActorCell>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where a node's published entry points.
struct Entry {
    node: String,
    incarnation: u64,
    actor: u64,
    wire_name: String,
}

impl Registry {
    pub(crate) fn register<M: RemoteMessage>(
        &self,
        remote: &Remote,
        publish: &mpsc::UnboundedSender<Publish>,
        name: &str,
        actor: &ActorRef<M>,
    ) -> Result<(), ClusterError> {
        let cell = actor.cell();
        local_only(&cell)?;
        {
            let mut names = lock(&self.names);
            if let Some(holder) = names.get(name) {
                if *holder == cell {
                    return Ok(());
                }
                if holder.status().is_alive() {
                    return Err(ClusterError::NameTaken(name.to_string()));
                }
            }
            names.insert(name.to_string(), cell);
        }
        let (id, wire) = remote.export_local(export(actor));
        let _ = publish.send(Publish::Set(name_key(name), format!("{id}:{wire}")));
        Ok(())
    }

    /// Removes `name`; if `only` is given, only while that actor holds it (an ending
    /// actor's clean-up must not remove a successor's name).
    pub(crate) fn unregister(
        &self,
        publish: &mpsc::UnboundedSender<Publish>,
        name: &str,
        only: Option<&ActorCell>,
    ) -> Result<(), ClusterError> {
        let mut names = lock(&self.names);
        match names.get(name) {
            Some(holder) if only.is_none_or(|c| c == holder) => {
                names.remove(name);
                let _ = publish.send(Publish::Delete(name_key(name)));
                Ok(())
            }
            _ => Err(ClusterError::NotRegistered(name.to_string())),
        }
    }

    pub(crate) fn join<M: RemoteMessage>(
        &self,
        remote: &Remote,
        publish: &mpsc::UnboundedSender<Publish>,
        group: &str,
        actor: &ActorRef<M>,
    ) -> Result<(), ClusterError> {
        let cell = actor.cell();
        local_only(&cell)?;
        {
            let mut groups = lock(&self.groups);
            let members = groups.entry(group.to_string()).or_default();
            if members.contains(&cell) {
                return Ok(());
            }
            members.push(cell);
        }
        let (id, wire) = remote.export_local(export(actor));
        let _ = publish.send(Publish::Set(member_key(group, id), wire.to_string()));
        Ok(())
    }

    pub(crate) fn leave(
        &self,
        publish: &mpsc::UnboundedSender<Publish>,
        group: &str,
        actor: &ActorCell,
    ) -> bool {
        let mut groups = lock(&self.groups);
        let Some(members) = groups.get_mut(group) else {
            return false;
        };
        let before = members.len();
        members.retain(|c| c != actor);
        let left = members.len() < before;
        if members.is_empty() {
            groups.remove(group);
        }
        if left {
            let _ = publish.send(Publish::Delete(member_key(group, actor.id().local())));
        }
        left
    }

    /// The typed ref registered as `name` on this node or any live one.
    pub(crate) fn where_is<M: RemoteMessage>(
        &self,
        remote: &Remote,
        live: &LiveNodes,
        is_down: impl Fn(&str, u64) -> bool,
        name: &str,
    ) -> Option<ActorRef<M>> {
        if let Some(cell) = lock(&self.names).get(name) {
            if cell.status().is_alive() {
                return cell.clone().into_ref::<M>();
            }
        }
        let key = name_key(name);
        let mut found: Vec<Entry> = Vec::new();
        for (id, state) in live {
            if &*id.node_id == remote.name.as_str() || is_down(&id.node_id, id.generation_id) {
                continue;
            }
            let Some(value) = state.get(&key) else {
                continue;
            };
            let Some((actor, wire_name)) = value.split_once(':') else {
                continue;
            };
            let Ok(actor) = actor.parse() else { continue };
            found.push(Entry {
                node: id.node_id.to_string(),
                incarnation: id.generation_id,
                actor,
                wire_name: wire_name.to_string(),
            });
        }
        found.sort_by(|a, b| a.node.cmp(&b.node));
        if found.len() > 1 {
            tracing::warn!(target: "ensemble::cluster", name, nodes = ?found.iter().map(|e| &e.node).collect::<Vec<_>>(),
                "a name is registered on several nodes; using the first by node name");
        }
        let entry = found.into_iter().next()?;
        resolve::<M>(remote, entry)
    }

    /// The members of `group` whose message type is `M`, on this node and every live one.
    pub(crate) fn members<M: RemoteMessage>(
        &self,
        remote: &Remote,
        live: &LiveNodes,
        is_down: impl Fn(&str, u64) -> bool,
        group: &str,
    ) -> Vec<ActorRef<M>> {
        let mut out: Vec<ActorRef<M>> = lock(&self.groups)
            .get(group)
            .into_iter()
            .flatten()
            .filter(|c| c.status().is_alive())
            .filter_map(|c| c.clone().into_ref::<M>())
            .collect();
        let prefix = format!("g:{group}:");
        for (id, state) in live {
            if &*id.node_id == remote.name.as_str() || is_down(&id.node_id, id.generation_id) {
                continue;
            }
            for (key, wire_name) in state.key_values() {
                let Some(actor) = key.strip_prefix(&prefix) else {
                    continue;
                };
                let Ok(actor) = actor.parse() else { continue };
                let entry = Entry {
                    node: id.node_id.to_string(),
                    incarnation: id.generation_id,
                    actor,
                    wire_name: wire_name.to_string(),
                };
                out.extend(resolve::<M>(remote, entry));
            }
        }
        out
    }
}

/// A typed ref for a published entry; `None` for another message type.
fn resolve<M: RemoteMessage>(remote: &Remote, entry: Entry) -> Option<ActorRef<M>> {
    if entry.wire_name != M::WIRE_NAME {
        return None;
    }
    let wire = WireRef {
        node: entry.node,
        incarnation: entry.incarnation,
        actor: entry.actor,
        wire_name: entry.wire_name,
    };
    let cell = ensemble::remote::WireContext::import(remote, &wire, proxy_factory::<M>).ok()?;
    cell.into_ref::<M>()
}

fn local_only(cell: &ActorCell) -> Result<(), ClusterError> {
    if cell.id().is_local() {
        Ok(())
    } else {
        Err(ClusterError::Config(format!(
            "{} runs on another node: names and groups are published by the node that runs \
             the actor",
            cell.id()
        )))
    }
}
