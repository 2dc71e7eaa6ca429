//! Actor identities.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The identity of an actor: a node part and a node-local part.
///
/// `node == 0` is the local node. The local part is unique for the life of the process
/// and never reused, so an id names one *incarnation* of an actor: a restarted actor gets
/// a new id even when it keeps its registered name.
///
/// Displayed Erlang-style as `<node.local>`:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use ensemble::{Actor, ActorProcessingErr, ActorRef};
/// struct Idle;
/// impl Actor for Idle {
///     type Msg = ();
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
/// }
/// let (actor, _handle) = Actor::spawn(None, Idle, ()).await.unwrap();
/// assert!(actor.id().is_local());
/// assert_eq!(actor.id(), actor.cell().id());
/// assert!(actor.id().to_string().starts_with("<0."));
/// # }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActorId {
    node: u64,
    local: u64,
}

static NEXT_LOCAL: AtomicU64 = AtomicU64::new(1);

impl ActorId {
    /// Builds an id from its parts. Used by the cluster layer for remote actors.
    pub const fn new(node: u64, local: u64) -> Self {
        ActorId { node, local }
    }

    /// A fresh id on the local node.
    pub(crate) fn next_local() -> Self {
        ActorId {
            node: 0,
            local: NEXT_LOCAL.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The node part; `0` is the local node.
    pub const fn node(&self) -> u64 {
        self.node
    }

    /// The node-local part, unique on its node and never reused.
    pub const fn local(&self) -> u64 {
        self.local
    }

    /// Whether this id names an actor on the local node.
    pub const fn is_local(&self) -> bool {
        self.node == 0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}.{}>", self.node, self.local)
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
