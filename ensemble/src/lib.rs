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
//! ## The manual
//!
//! - [`guide`]: the user guide, chapter by chapter, in the style of OTP's *Design
//!   Principles*: [actors](guide::actors), [call and cast](guide::call_and_cast),
//!   [errors and panics](guide::errors_and_panics), [links](guide::links),
//!   [names](guide::registry), [supervision](guide::supervision),
//!   [mailboxes and timers](guide::mailboxes), [groups and pools](guide::groups_and_pools),
//!   [structuring an application](guide::applications) and
//!   [performance](guide::performance).
//! - [`semantics`]: the runtime contract (ordering, signals, failure, names, bounds),
//!   each rule with the test that proves it.
//!
//! Every example in both runs as a doctest. The same pages are `docs/guide/` and
//! `docs/SEMANTICS.md` in the repository.
//!
//! ## Features
//!
//! - `metrics` (default): counters through the [`metrics`](https://docs.rs/metrics) facade
//!   (`ensemble_dead_letters_total`); the application chooses the exporter. Without it,
//!   the same counts are kept per actor ([`ActorRef::stats`]) and per node
//!   ([`node::dead_letters`]).
#![forbid(unsafe_code)]
// Library code never panics on user input: no unwrap, expect or panic outside tests.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod actor;
mod actor_ref;
mod arbiter;
mod cell;
mod compat;
pub mod concurrency;
mod derived;
mod errors;
mod family;
mod id;
pub mod introspect;
mod macros;
mod mailbox;
pub mod node;
mod observe;
mod options;
pub mod panics;
pub mod pg;
pub mod pool;
pub mod port;
pub mod registry;
#[cfg(feature = "remote")]
pub mod remote;
pub mod rpc;
mod runtime;
mod stream;
mod supervision;
pub mod supervisor;
mod sync;
mod system;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod timers;

pub use actor::{Actor, spawn, spawn_named};
pub use actor_ref::ActorRef;
pub use arbiter::Arbiter;
pub use cell::{ActorCell, ActorStatus, Shutdown};
#[allow(deprecated)]
pub use compat::{
    ActorName, ActorRegistryErr, BoxedDowncastErr, MessagingErr, RactorErr, SpawnErr,
};
pub use derived::DerivedActorRef;
pub use ensemble_macros::{actor, async_trait, message, rpc};
pub use errors::{CallError, RemoteError, SendError, SpawnError, WaitTimeout};
pub use id::ActorId;
pub use mailbox::{MailboxConfig, MailboxStats, Overflow};
pub use options::SpawnOptions;
pub use port::OutputPort;
pub use rpc::RpcReplyPort;
pub use supervision::{BoxedState, BoxedStateError, ExitReason, SupervisionEvent};
pub use system::ActorSystem;
pub use timers::{TimerHandle, TimerMessage};

/// The error a hook returns to fail its actor. Anything that implements
/// `std::error::Error + Send + Sync` converts into it with `?`, as do `String` and `&str`.
pub type ActorProcessingErr = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// Includes one of the manual's pages, as `build.rs` prepared it (links between pages
/// turned into links between these modules).
macro_rules! page {
    ($file:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/docs/", $file))
    };
}

#[doc = page!("SEMANTICS.md")]
pub mod semantics {}

#[doc = page!("guide/README.md")]
pub mod guide {
    #[doc = page!("guide/actors.md")]
    pub mod actors {}
    #[doc = page!("guide/call-and-cast.md")]
    pub mod call_and_cast {}
    #[doc = page!("guide/errors-and-panics.md")]
    pub mod errors_and_panics {}
    #[doc = page!("guide/links.md")]
    pub mod links {}
    #[doc = page!("guide/registry.md")]
    pub mod registry {}
    #[doc = page!("guide/supervision.md")]
    pub mod supervision {}
    #[doc = page!("guide/mailboxes.md")]
    pub mod mailboxes {}
    #[doc = page!("guide/groups-and-pools.md")]
    pub mod groups_and_pools {}
    #[doc = page!("guide/applications.md")]
    pub mod applications {}
    #[doc = page!("guide/performance.md")]
    pub mod performance {}
    #[doc = page!("guide/observability.md")]
    pub mod observability {}
    #[doc = page!("guide/testing.md")]
    pub mod testing {}
    #[doc = page!("guide/migrating-from-ractor.md")]
    pub mod migrating_from_ractor {}
    #[doc = page!("benchmarks.md")]
    pub mod benchmarks {}
}
