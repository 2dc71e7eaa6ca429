//! # Ensemble
//!
//! An actor framework for Rust in the tradition of Erlang/OTP, built on tokio.
//!
//! An actor owns private state and a mailbox; messages are the only way in. Each actor
//! runs as one tokio task and handles its messages one at a time, so its state needs no
//! locks. Send without waiting with [`ActorRef::cast`], or ask and await the reply with
//! [`ActorRef::call`]. Actors linked into a tree hear of each other's failures through
//! [`SupervisionEvent`]s.
//!
//! ```
//! use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
//!
//! enum Counter {
//!     Add(i64),
//!     Get(RpcReplyPort<i64>),
//! }
//!
//! struct CounterActor;
//!
//! impl Actor for CounterActor {
//!     type Msg = Counter;
//!     type State = i64;
//!     type Arguments = i64;
//!
//!     async fn pre_start(&self, _: ActorRef<Counter>, start: i64) -> Result<i64, ActorProcessingErr> {
//!         Ok(start)
//!     }
//!
//!     async fn handle(&self, _: ActorRef<Counter>, msg: Counter, value: &mut i64) -> Result<(), ActorProcessingErr> {
//!         match msg {
//!             Counter::Add(n) => *value += n,
//!             Counter::Get(reply) => reply.send(*value)?,
//!         }
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let (counter, handle) = Actor::spawn(Some("counter".into()), CounterActor, 0).await?;
//!     for n in 1..=10 {
//!         counter.cast(Counter::Add(n))?;
//!     }
//!     let total = counter.call(Counter::Get, Some(std::time::Duration::from_secs(1))).await?;
//!     assert_eq!(total, 55);
//!     counter.stop(None);
//!     handle.await?;
//!     Ok(())
//! }
//! ```
//!
//! The runtime contract (ordering, signals, failure, names) is written down in
//! `docs/SEMANTICS.md`, each rule with the test that proves it.
#![forbid(unsafe_code)]
// Library code never panics on user input: no unwrap, expect or panic outside tests.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod actor;
mod actor_ref;
mod cell;
mod errors;
mod id;
mod macros;
mod mailbox;
pub mod node;
mod options;
pub mod panics;
pub mod pg;
pub mod pool;
pub mod port;
pub mod registry;
mod rpc;
mod runtime;
mod stream;
mod supervision;
pub mod supervisor;
mod sync;
mod timers;

pub use actor::Actor;
pub use actor_ref::ActorRef;
pub use cell::{ActorCell, ActorStatus, Shutdown};
pub use ensemble_macros::async_trait;
pub use errors::{CallError, SendError, SpawnError, WaitTimeout};
pub use id::ActorId;
pub use mailbox::{MailboxConfig, MailboxStats, Overflow};
pub use options::SpawnOptions;
pub use rpc::RpcReplyPort;
pub use supervision::{BoxedState, BoxedStateError, ExitReason, SupervisionEvent};
pub use timers::TimerHandle;

/// The error a hook returns to fail its actor. Anything that implements
/// `std::error::Error + Send + Sync` converts into it with `?`, as do `String` and `&str`.
pub type ActorProcessingErr = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The guide's examples, compiled and run as doctests so they cannot drift.
#[cfg(doctest)]
mod guide_doctests {
    #[doc = include_str!("../../docs/guide/actors.md")]
    struct Actors;
    #[doc = include_str!("../../docs/guide/call-and-cast.md")]
    struct CallAndCast;
    #[doc = include_str!("../../docs/guide/links.md")]
    struct Links;
    #[doc = include_str!("../../docs/guide/registry.md")]
    struct Registry;
    #[doc = include_str!("../../docs/guide/supervision.md")]
    struct Supervision;
    #[doc = include_str!("../../docs/guide/mailboxes.md")]
    struct Mailboxes;
    #[doc = include_str!("../../docs/guide/groups-and-pools.md")]
    struct GroupsAndPools;
    #[doc = include_str!("../../docs/guide/performance.md")]
    struct Performance;
}
