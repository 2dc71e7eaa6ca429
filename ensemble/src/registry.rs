//! The node-local name registry.
//!
//! Names are unique on a node. An actor spawned with a name holds it from the start of
//! `pre_start` until it has ended; the name is released before its supervisor hears of
//! the end, so the supervisor may respawn a child under the same name at once.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use ensemble::{registry, Actor, ActorProcessingErr, ActorRef};
//! struct Idle;
//! impl Actor for Idle {
//!     type Msg = u32;
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<u32>, _: ()) -> Result<(), ActorProcessingErr> {
//!         Ok(())
//!     }
//! }
//! let (actor, _) = Actor::spawn(Some("registry-doc".into()), Idle, ()).await.unwrap();
//! assert_eq!(registry::where_is("registry-doc").unwrap().id(), actor.id());
//! assert!(ActorRef::<u32>::where_is("registry-doc").is_some());
//! assert!(ActorRef::<String>::where_is("registry-doc").is_none()); // wrong message type
//! assert!(registry::registered().contains(&"registry-doc".to_string()));
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use crate::{ActorCell, ActorId};

static NAMES: LazyLock<RwLock<HashMap<Arc<str>, ActorCell>>> = LazyLock::new(Default::default);

/// Claims `name` for `cell`; `false` if a live actor holds it.
pub(crate) fn register(name: Arc<str>, cell: ActorCell) -> bool {
    let mut names = NAMES.write().unwrap_or_else(PoisonError::into_inner);
    match names.entry(name) {
        std::collections::hash_map::Entry::Occupied(_) => false,
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(cell);
            true
        }
    }
}

/// Releases `name` if `id` holds it.
pub(crate) fn unregister(name: &str, id: ActorId) {
    let mut names = NAMES.write().unwrap_or_else(PoisonError::into_inner);
    if names.get(name).is_some_and(|c| c.id() == id) {
        names.remove(name);
    }
}

/// The live actor registered under `name`, if any.
pub fn where_is(name: impl AsRef<str>) -> Option<ActorCell> {
    NAMES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name.as_ref())
        .cloned()
}

/// Every name currently registered on this node, in no particular order.
pub fn registered() -> Vec<String> {
    NAMES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .keys()
        .map(|k| k.to_string())
        .collect()
}

/// The name `id` is registered under, if any (a scan: for rare paths such as logging a
/// panic).
pub(crate) fn name_of(id: ActorId) -> Option<String> {
    NAMES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(_, cell)| cell.id() == id)
        .map(|(name, _)| name.to_string())
}
