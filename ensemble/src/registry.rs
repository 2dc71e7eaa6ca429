//! The name registry of the global [`ActorSystem`] (each system has its own:
//! [`ActorSystem::where_is`]).
//!
//! Names are unique within a system. An actor spawned with a name holds it from the start of
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

use crate::{ActorCell, ActorId, ActorSystem};

/// The live actor registered under `name` in the global [`ActorSystem`], if any.
pub fn where_is(name: impl AsRef<str>) -> Option<ActorCell> {
    ActorSystem::global().where_is(name)
}

/// Every name registered in the global system, in no particular order.
pub fn registered() -> Vec<String> {
    ActorSystem::global().registered()
}

/// The name `id` is registered under in the global system, if any (a scan: for rare
/// paths such as logging a panic).
pub(crate) fn name_of(id: ActorId) -> Option<String> {
    let system = ActorSystem::global();
    system
        .registered()
        .into_iter()
        .find(|name| system.where_is(name).is_some_and(|c| c.id() == id))
}
