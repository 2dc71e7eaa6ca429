//! `ActorSystem`: the node-local services actors share: the name registry, process
//! groups, and dead-letter counting.
//!
//! Every actor belongs to one system, for life. Most programs never name one: actors go
//! to [`ActorSystem::global`], and the free functions of [`registry`](crate::registry),
//! [`pg`](crate::pg) and [`node`](crate::node) work on it. A program that runs several
//! independent nodes in one process (a cluster test, say) gives each its own system with
//! [`ActorSystem::new`] and spawns into it with [`SpawnOptions::system`]; an actor spawned
//! under a supervisor joins its supervisor's system.
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
//! let (east, west) = (ActorSystem::new("east"), ActorSystem::new("west"));
//! // The same name in two systems: two independent registries.
//! let (a, _) = Actor::spawn_with(SpawnOptions::new().name("svc").system(&east), Idle, ()).await.unwrap();
//! let (b, _) = Actor::spawn_with(SpawnOptions::new().name("svc").system(&west), Idle, ()).await.unwrap();
//! assert_eq!(east.where_is("svc").unwrap().id(), a.id());
//! assert_eq!(west.where_is("svc").unwrap().id(), b.id());
//! assert!(ensemble::registry::where_is("svc").is_none()); // not in the global system
//! assert_eq!(a.cell().system(), east);
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use crate::cell::Shared;
use crate::node::DeadLetters;
use crate::pg::{GroupTable, ProcessGroups};
use crate::{ActorCell, ActorId};

type Hook = Arc<dyn Fn(&DeadLetters) + Send + Sync>;

/// A set of actors sharing a name registry, process groups and dead-letter counts. Cheap
/// to clone (one reference count); clones are the same system.
#[derive(Clone)]
pub struct ActorSystem(Arc<Inner>);

struct Inner {
    name: Box<str>,
    names: RwLock<HashMap<Arc<str>, ActorCell>>,
    groups: GroupTable,
    dead_letters: AtomicU64,
    hook: RwLock<Option<Hook>>,
    tracker: crate::introspect::Tracker,
    /// The node serving this system's remote actors, if any (a weak link: the node owns
    /// the system, not the other way round).
    #[cfg(feature = "remote")]
    distribution: RwLock<Option<std::sync::Weak<dyn crate::remote::Distribution>>>,
}

static GLOBAL: LazyLock<ActorSystem> = LazyLock::new(|| ActorSystem::new("global"));

impl ActorSystem {
    /// A new, empty system; `name` is for logs and `Debug` only.
    pub fn new(name: impl Into<String>) -> Self {
        ActorSystem(Arc::new(Inner {
            name: name.into().into_boxed_str(),
            names: RwLock::default(),
            groups: GroupTable::default(),
            dead_letters: AtomicU64::new(0),
            hook: RwLock::new(None),
            tracker: crate::introspect::Tracker::default(),
            #[cfg(feature = "remote")]
            distribution: RwLock::new(None),
        }))
    }

    /// The process's default system: where actors go unless told otherwise.
    pub fn global() -> ActorSystem {
        GLOBAL.clone()
    }

    /// The name given at creation (`"global"` for the default system).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The live actor registered under `name` in this system, if any.
    pub fn where_is(&self, name: impl AsRef<str>) -> Option<ActorCell> {
        self.names().get(name.as_ref()).cloned()
    }

    /// Every name registered in this system, in no particular order.
    pub fn registered(&self) -> Vec<String> {
        self.names().keys().map(|k| k.to_string()).collect()
    }

    /// This system's process groups (the [`pg`](crate::pg) functions, for this system).
    pub fn groups(&self) -> ProcessGroups<'_> {
        ProcessGroups::new(self)
    }

    pub(crate) fn tracker(&self) -> &crate::introspect::Tracker {
        &self.0.tracker
    }

    pub(crate) fn group_table(&self) -> &GroupTable {
        &self.0.groups
    }

    /// How many messages addressed to this system's actors were dropped undelivered (see
    /// [`node::dead_letters`](crate::node::dead_letters) for what counts).
    pub fn dead_letters(&self) -> u64 {
        self.0.dead_letters.load(Ordering::Relaxed)
    }

    /// Calls `hook` for every batch of dead letters in this system, replacing any
    /// previous hook (see [`node::set_dead_letter_hook`](crate::node::set_dead_letter_hook)).
    pub fn set_dead_letter_hook(&self, hook: impl Fn(&DeadLetters) + Send + Sync + 'static) {
        *self.0.hook.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
    }

    /// Removes the hook set with [`set_dead_letter_hook`](Self::set_dead_letter_hook).
    pub fn clear_dead_letter_hook(&self) {
        *self.0.hook.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Makes `distribution` the node that serves this system's remote actors (monitors and
    /// links of proxies go through it).
    #[cfg(feature = "remote")]
    pub fn set_distribution(&self, distribution: std::sync::Weak<dyn crate::remote::Distribution>) {
        *self
            .0
            .distribution
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(distribution);
    }

    /// The node serving this system's remote actors, while it runs.
    #[cfg(feature = "remote")]
    pub(crate) fn distribution(&self) -> Option<Arc<dyn crate::remote::Distribution>> {
        self.0
            .distribution
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(std::sync::Weak::upgrade)
    }

    fn names(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, ActorCell>> {
        self.0.names.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Claims `name` for `cell`; `false` if a live actor holds it.
    pub(crate) fn register(&self, name: Arc<str>, cell: ActorCell) -> bool {
        let mut names = self.0.names.write().unwrap_or_else(PoisonError::into_inner);
        match names.entry(name) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(cell);
                true
            }
        }
    }

    /// Releases `name` if `id` holds it.
    pub(crate) fn unregister(&self, name: &str, id: ActorId) {
        let mut names = self.0.names.write().unwrap_or_else(PoisonError::into_inner);
        if names.get(name).is_some_and(|c| c.id() == id) {
            names.remove(name);
        }
    }

    /// Counts `n` dead letters for the actor behind `shared` (takes its mailbox lock:
    /// never call it with that lock held), logs them and calls the hook.
    pub(crate) fn record_dead_letters<M>(&self, shared: &Shared<M>, n: usize, why: &'static str) {
        if n == 0 {
            return;
        }
        let n = n as u64;
        shared.mailbox.add_dead_letters(n);
        let header = &shared.header;
        self.0.dead_letters.fetch_add(n, Ordering::Relaxed);
        self.0.tracker.dead_letters(why, n);
        tracing::debug!(
            target: "ensemble::dead_letters",
            actor = %header.id,
            name = header.name.as_deref().unwrap_or(""),
            count = n,
            why,
            "messages dropped undelivered"
        );
        let hook = self
            .0
            .hook
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(hook) = hook {
            hook(&DeadLetters {
                actor: header.id,
                name: header.name.as_deref().map(str::to_owned),
                count: n,
                reason: why,
            });
        }
    }
}

impl Default for ActorSystem {
    /// The global system.
    fn default() -> Self {
        ActorSystem::global()
    }
}

impl PartialEq for ActorSystem {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ActorSystem {}

impl fmt::Debug for ActorSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActorSystem({:?})", self.0.name)
    }
}
