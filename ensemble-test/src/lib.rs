//! # ensemble-test
//!
//! A test kit for [Ensemble](ensemble) actors, in the manner of Akka's TestKit, Erlang's
//! `sys` module and PropEr's state machines: tests that say what they expect, run in no
//! wall time, and never sleep to wait for something.
//!
//! - [`TestProbe`]: a real `ActorRef<M>` that records what it receives, with
//!   `expect_msg`, `expect_msg_matching`, `expect_no_msg`, `receive_n`, `fish_for`; it
//!   stands in as a supervisor (`expect_started`, `expect_failed`, `expect_terminated`)
//!   or a monitor (`watch`, `expect_down`). [`within`] bounds how long something takes.
//! - Inspection of a running actor (from `ensemble::testing`, which this crate turns
//!   on): [`ActorRef::inspect`](ensemble::ActorRef::inspect) reads or changes its state,
//!   [`suspend`](ensemble::ActorRef::suspend) and [`resume`](ensemble::ActorRef::resume)
//!   hold its messages, and a [`Trace`] records every message it handles.
//! - [`FaultPlan`]: make an actor fail, panic or stall on its Nth message or with a
//!   seeded probability; delay or drop its messages. Deterministic from the seed.
//! - [`model`]: model-based tests with proptest ([`model::StateMachine`]).
//!
//! Add it as a dev-dependency; it turns on `ensemble`'s `test-util` feature for tests
//! only, so a production build has none of the hooks.
//!
//! ```toml
//! [dev-dependencies]
//! ensemble-test = "0.1"
//! ```
//!
//! ## Paused time
//!
//! Run tests on tokio's current-thread runtime with time paused:
//! `#[tokio::test(start_paused = true)]`, or [`paused_runtime`] by hand. The clock then
//! stands still while any task can run, and jumps to the next timer when every task
//! waits: timers, `send_after`, call timeouts, supervisor backoff and intensity windows,
//! and the kit's own timeouts all fire in order, in no wall time, the same way on every
//! run. `expect_no_msg(Duration::from_secs(5))` returns at once once nothing else can
//! happen.
//!
//! What does not work on paused time: anything outside tokio's clock and scheduler.
//! Real sockets and other processes (the cluster; use the multi-thread runtime and
//! real time there), blocking threads (`spawn_blocking`, `std::thread::sleep`: the
//! clock may jump past a deadline while such a thread works, so a call timeout can fire
//! "early"), `std::time::Instant` (does not move), and the multi-thread runtime (time
//! cannot be paused on it).
//!
//! The [guide chapter on testing](ensemble::guide::testing) shows a whole test of each
//! kind: one actor, a supervision tree, a timer-driven actor, an actor under faults.
//!
//! ```
//! use std::time::Duration;
//! use ensemble::{Actor, ActorProcessingErr, ActorRef};
//! use ensemble_test::TestProbe;
//!
//! /// Greets whoever it is told about, through the reply-to ref in the message.
//! struct Greeter;
//! impl Actor for Greeter {
//!     type Msg = (String, ActorRef<String>);
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
//!         Ok(())
//!     }
//!     async fn handle(&self, _: ActorRef<Self::Msg>, (name, to): Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
//!         to.cast(format!("hello, {name}"))?;
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! // In a test file: #[tokio::test(start_paused = true)] async fn greets() { ... }
//! let probe = TestProbe::<String>::spawn().await;
//! let (greeter, _) = Actor::spawn(None, Greeter, ()).await.unwrap();
//! greeter.cast(("Ada".into(), probe.actor_ref())).unwrap();
//! assert_eq!(probe.expect_msg(Duration::from_secs(1)).await, "hello, Ada");
//! probe.expect_no_msg(Duration::from_secs(1)).await;
//! # }
//! ```
#![forbid(unsafe_code)]
// A test kit's expectations fail the test by panicking, as `assert!` does.
#![allow(clippy::panic)]

pub mod faults;
pub mod model;
pub mod probe;
pub mod trace;

pub use ensemble::testing::{Directive, InspectError};
pub use faults::{FaultLog, FaultPlan};
pub use probe::{DEFAULT_TIMEOUT, TestProbe, within};
pub use trace::Trace;

/// A current-thread tokio runtime with time paused and every driver on: what
/// `#[tokio::test(start_paused = true)]` builds, for tests that build their own (one per
/// proptest case, say).
///
/// # Panics
/// If the runtime cannot be built (out of file descriptors).
pub fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| panic!("could not build a paused tokio runtime: {e}"))
}
