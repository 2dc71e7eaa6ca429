//! Process groups, after Erlang's `pg`: named groups of actors within scopes.
//!
//! An actor may be in many groups; joining twice is one membership. Members leave
//! automatically when they end. Watchers of a group or of a whole scope receive
//! [`SupervisionEvent::ProcessGroupChanged`] for every join and leave, once each.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use ensemble::{pg, Actor, ActorProcessingErr, ActorRef};
//! struct Listener;
//! impl Actor for Listener {
//!     type Msg = String;
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<String>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
//! }
//! let (a, _) = Actor::spawn(None, Listener, ()).await.unwrap();
//! let (b, _) = Actor::spawn(None, Listener, ()).await.unwrap();
//! pg::join("pg-doc-news", vec![a.cell(), b.cell()]);
//! assert_eq!(pg::members("pg-doc-news").len(), 2);
//! assert_eq!(pg::broadcast("pg-doc-news", "hello".to_string()), 2);
//! a.stop_and_wait(None, None).await.unwrap();
//! assert_eq!(pg::members("pg-doc-news"), vec![b.cell()]); // left on its own
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::{ActorCell, ActorId, ActorSystem, SupervisionEvent};

/// The scope used by the functions without a `_scoped` suffix.
pub const DEFAULT_SCOPE: &str = "default";

/// A change to a group, as told to its watchers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum GroupChange {
    /// Actors joined `group` in `scope`.
    Join {
        /// The scope.
        scope: String,
        /// The group.
        group: String,
        /// Who joined.
        actors: Vec<ActorCell>,
    },
    /// Actors left `group` in `scope` (by `leave` or by ending).
    Leave {
        /// The scope.
        scope: String,
        /// The group.
        group: String,
        /// Who left.
        actors: Vec<ActorCell>,
    },
}

#[derive(Default)]
struct Scope {
    groups: HashMap<Arc<str>, Vec<ActorCell>>,
    group_watchers: HashMap<Arc<str>, Vec<ActorCell>>,
    scope_watchers: Vec<ActorCell>,
}

/// Where one system's groups are kept.
#[derive(Default)]
pub(crate) struct GroupTable {
    scopes: Mutex<HashMap<Arc<str>, Scope>>,
}

/// The process groups of one [`ActorSystem`] (from [`ActorSystem::groups`]). The free
/// functions of this module work on the global system's.
#[derive(Clone, Copy)]
pub struct ProcessGroups<'a> {
    system: &'a ActorSystem,
}

/// Tells the watchers of `group` and of its scope, each once.
fn notify(scope: &Scope, group: &str, change: &GroupChange) -> Vec<(ActorCell, SupervisionEvent)> {
    let mut seen: Vec<ActorId> = Vec::new();
    let watchers = scope
        .group_watchers
        .get(group)
        .into_iter()
        .flatten()
        .chain(scope.scope_watchers.iter());
    let mut out = Vec::new();
    for w in watchers {
        if !seen.contains(&w.id()) {
            seen.push(w.id());
            out.push((
                w.clone(),
                SupervisionEvent::ProcessGroupChanged(change.clone()),
            ));
        }
    }
    out
}

/// Drops a scope that has no groups and no watchers left.
fn prune_scope(scopes: &mut HashMap<Arc<str>, Scope>, scope: &str) {
    if let Some(s) = scopes.get_mut(scope) {
        s.group_watchers.retain(|_, list| !list.is_empty());
        if s.groups.is_empty() && s.group_watchers.is_empty() && s.scope_watchers.is_empty() {
            scopes.remove(scope);
        }
    }
}

impl<'a> ProcessGroups<'a> {
    pub(crate) fn new(system: &'a ActorSystem) -> Self {
        ProcessGroups { system }
    }

    fn scopes(&self) -> MutexGuard<'a, HashMap<Arc<str>, Scope>> {
        self.system
            .group_table()
            .scopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends the events; watchers that have ended are dropped from every list.
    fn deliver(&self, events: Vec<(ActorCell, SupervisionEvent)>) {
        let mut gone = Vec::new();
        for (watcher, evt) in events {
            if watcher.send_event(evt).is_err() {
                gone.push(watcher.id());
            }
        }
        if !gone.is_empty() {
            for scope in self.scopes().values_mut() {
                scope.scope_watchers.retain(|w| !gone.contains(&w.id()));
                for list in scope.group_watchers.values_mut() {
                    list.retain(|w| !gone.contains(&w.id()));
                }
            }
        }
    }

    /// Adds `actors` to `group` in `scope`. Actors already in the group, or already
    /// ended, are skipped; watchers hear of the others.
    pub fn join(&self, scope: impl Into<String>, group: impl Into<String>, actors: Vec<ActorCell>) {
        let (scope, group): (Arc<str>, Arc<str>) = (scope.into().into(), group.into().into());
        let events = {
            let mut scopes = self.scopes();
            let s = scopes.entry(scope.clone()).or_default();
            let members = s.groups.entry(group.clone()).or_default();
            let mut joined = Vec::new();
            for actor in actors {
                if members.contains(&actor) {
                    continue;
                }
                if !actor.header().track_group(self.system, &scope, &group) {
                    continue;
                }
                members.push(actor.clone());
                joined.push(actor);
            }
            if joined.is_empty() {
                if members.is_empty() {
                    s.groups.remove(&group);
                }
                prune_scope(&mut scopes, &scope);
                return;
            }
            let change = GroupChange::Join {
                scope: scope.to_string(),
                group: group.to_string(),
                actors: joined,
            };
            notify(s, &group, &change)
        };
        self.deliver(events);
    }

    /// Removes `actors` from `group` in `scope`; watchers hear of those that were
    /// members.
    pub fn leave(&self, scope: impl AsRef<str>, group: impl AsRef<str>, actors: Vec<ActorCell>) {
        let (scope, group) = (scope.as_ref(), group.as_ref());
        for a in &actors {
            a.header().untrack_group(self.system, scope, group);
        }
        let ids: Vec<ActorId> = actors.iter().map(ActorCell::id).collect();
        self.remove(scope, group, &ids);
    }

    pub(crate) fn remove(&self, scope: &str, group: &str, ids: &[ActorId]) {
        let events = {
            let mut scopes = self.scopes();
            let Some(s) = scopes.get_mut(scope) else {
                return;
            };
            let Some(members) = s.groups.get_mut(group) else {
                return;
            };
            let mut left = Vec::new();
            members.retain(|m| {
                let going = ids.contains(&m.id());
                if going {
                    left.push(m.clone());
                }
                !going
            });
            if members.is_empty() {
                s.groups.remove(group);
            }
            if left.is_empty() {
                prune_scope(&mut scopes, scope);
                return;
            }
            let change = GroupChange::Leave {
                scope: scope.to_string(),
                group: group.to_string(),
                actors: left,
            };
            let events = notify(s, group, &change);
            prune_scope(&mut scopes, scope);
            events
        };
        self.deliver(events);
    }

    /// The members of `group` in `scope`, in join order.
    pub fn members(&self, scope: impl AsRef<str>, group: impl AsRef<str>) -> Vec<ActorCell> {
        self.scopes()
            .get(scope.as_ref())
            .and_then(|s| s.groups.get(group.as_ref()))
            .cloned()
            .unwrap_or_default()
    }

    /// The members of `group` in `scope` on this node.
    pub fn local_members(&self, scope: impl AsRef<str>, group: impl AsRef<str>) -> Vec<ActorCell> {
        self.members(scope, group)
            .into_iter()
            .filter(|c| c.id().is_local())
            .collect()
    }

    /// The groups with members in `scope`.
    pub fn which_groups(&self, scope: impl AsRef<str>) -> Vec<String> {
        self.scopes()
            .get(scope.as_ref())
            .map(|s| s.groups.keys().map(|g| g.to_string()).collect())
            .unwrap_or_default()
    }

    /// The scopes that have groups or watchers.
    pub fn which_scopes(&self) -> Vec<String> {
        self.scopes().keys().map(|s| s.to_string()).collect()
    }

    /// `watcher` hears of every join and leave of `group` in `scope` from now on (the
    /// current members are not replayed: read them with [`members`](Self::members)). A
    /// watcher that has ended is dropped at the next change.
    pub fn monitor(&self, scope: impl Into<String>, group: impl Into<String>, watcher: ActorCell) {
        let mut scopes = self.scopes();
        let s = scopes.entry(scope.into().into()).or_default();
        let list = s.group_watchers.entry(group.into().into()).or_default();
        if !list.contains(&watcher) {
            list.push(watcher);
        }
    }

    /// Undoes [`monitor`](Self::monitor).
    pub fn demonitor(&self, scope: impl AsRef<str>, group: impl AsRef<str>, watcher: &ActorCell) {
        let mut scopes = self.scopes();
        if let Some(s) = scopes.get_mut(scope.as_ref()) {
            if let Some(list) = s.group_watchers.get_mut(group.as_ref()) {
                list.retain(|w| w != watcher);
            }
        }
        prune_scope(&mut scopes, scope.as_ref());
    }

    /// `watcher` hears of every join and leave of every group in `scope`.
    pub fn monitor_scope(&self, scope: impl Into<String>, watcher: ActorCell) {
        let mut scopes = self.scopes();
        let s = scopes.entry(scope.into().into()).or_default();
        if !s.scope_watchers.contains(&watcher) {
            s.scope_watchers.push(watcher);
        }
    }

    /// Undoes [`monitor_scope`](Self::monitor_scope).
    pub fn demonitor_scope(&self, scope: impl AsRef<str>, watcher: &ActorCell) {
        let mut scopes = self.scopes();
        if let Some(s) = scopes.get_mut(scope.as_ref()) {
            s.scope_watchers.retain(|w| w != watcher);
        }
        prune_scope(&mut scopes, scope.as_ref());
    }

    /// Casts a clone of `message` to every member of `group` in `scope` whose message
    /// type is `M`; returns how many accepted it.
    pub fn broadcast<M: Clone + Send + 'static>(
        &self,
        scope: impl AsRef<str>,
        group: impl AsRef<str>,
        message: M,
    ) -> usize {
        self.members(scope, group)
            .into_iter()
            .filter_map(ActorCell::into_ref::<M>)
            .filter(|r| r.cast(message.clone()).is_ok())
            .count()
    }
}

impl std::fmt::Debug for ProcessGroups<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessGroups")
            .field("system", self.system)
            .field("scopes", &self.scopes().len())
            .finish()
    }
}

fn global() -> ActorSystem {
    ActorSystem::global()
}

/// Adds `actors` to `group` in the default scope.
pub fn join(group: impl Into<String>, actors: Vec<ActorCell>) {
    join_scoped(DEFAULT_SCOPE, group, actors);
}

/// Adds `actors` to `group` in `scope`. Actors already in the group, or already ended,
/// are skipped; watchers hear of the others.
pub fn join_scoped(scope: impl Into<String>, group: impl Into<String>, actors: Vec<ActorCell>) {
    global().groups().join(scope, group, actors);
}

/// Removes `actors` from `group` in the default scope.
pub fn leave(group: impl AsRef<str>, actors: Vec<ActorCell>) {
    leave_scoped(DEFAULT_SCOPE, group, actors);
}

/// Removes `actors` from `group` in `scope`; watchers hear of those that were members.
pub fn leave_scoped(scope: impl AsRef<str>, group: impl AsRef<str>, actors: Vec<ActorCell>) {
    global().groups().leave(scope, group, actors);
}

/// The members of `group` in the default scope, in join order.
pub fn members(group: impl AsRef<str>) -> Vec<ActorCell> {
    members_scoped(DEFAULT_SCOPE, group)
}

/// The members of `group` in `scope`, in join order.
pub fn members_scoped(scope: impl AsRef<str>, group: impl AsRef<str>) -> Vec<ActorCell> {
    global().groups().members(scope, group)
}

/// The members of `group` (default scope) on this node.
pub fn local_members(group: impl AsRef<str>) -> Vec<ActorCell> {
    local_members_scoped(DEFAULT_SCOPE, group)
}

/// The members of `group` in `scope` on this node.
pub fn local_members_scoped(scope: impl AsRef<str>, group: impl AsRef<str>) -> Vec<ActorCell> {
    global().groups().local_members(scope, group)
}

/// The groups with members in the default scope.
pub fn which_groups() -> Vec<String> {
    which_groups_scoped(DEFAULT_SCOPE)
}

/// The groups with members in `scope`.
pub fn which_groups_scoped(scope: impl AsRef<str>) -> Vec<String> {
    global().groups().which_groups(scope)
}

/// The scopes that have groups or watchers.
pub fn which_scopes() -> Vec<String> {
    global().groups().which_scopes()
}

/// `watcher` hears of every join and leave of `group` in `scope` from now on (the
/// current members are not replayed: read them with [`members_scoped`]). A watcher that
/// has ended is dropped at the next change.
pub fn monitor(scope: impl Into<String>, group: impl Into<String>, watcher: ActorCell) {
    global().groups().monitor(scope, group, watcher);
}

/// Undoes [`monitor`].
pub fn demonitor(scope: impl AsRef<str>, group: impl AsRef<str>, watcher: &ActorCell) {
    global().groups().demonitor(scope, group, watcher);
}

/// `watcher` hears of every join and leave of every group in `scope`.
pub fn monitor_scope(scope: impl Into<String>, watcher: ActorCell) {
    global().groups().monitor_scope(scope, watcher);
}

/// Undoes [`monitor_scope`].
pub fn demonitor_scope(scope: impl AsRef<str>, watcher: &ActorCell) {
    global().groups().demonitor_scope(scope, watcher);
}

/// Casts a clone of `message` to every member of `group` (default scope) whose message
/// type is `M`; returns how many accepted it.
pub fn broadcast<M: Clone + Send + 'static>(group: impl AsRef<str>, message: M) -> usize {
    broadcast_scoped(DEFAULT_SCOPE, group, message)
}

/// Casts a clone of `message` to every member of `group` in `scope` whose message type
/// is `M`; returns how many accepted it.
pub fn broadcast_scoped<M: Clone + Send + 'static>(
    scope: impl AsRef<str>,
    group: impl AsRef<str>,
    message: M,
) -> usize {
    global().groups().broadcast(scope, group, message)
}
