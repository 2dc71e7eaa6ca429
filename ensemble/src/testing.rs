//! Test hooks into a running actor, in the manner of Erlang's `sys` module: read or change
//! its state ([`ActorRef::inspect`]), suspend and resume its message handling
//! ([`ActorRef::suspend`], [`ActorRef::resume`]), and see every message it is about to
//! handle, deciding what becomes of it ([`ActorRef::set_message_hook`], [`Directive`]):
//! a trace, or injected faults.
//!
//! Only with the `test-util` feature, which is meant for `[dev-dependencies]`: a
//! production build has none of it, and pays nothing for it. The `ensemble-test` crate
//! builds its probes, fault plans and traces on these hooks; most tests want that crate
//! rather than this module.
//!
//! ```
//! use ensemble::{Actor, ActorProcessingErr, ActorRef};
//!
//! struct Counter;
//! impl Actor for Counter {
//!     type Msg = u64;
//!     type State = u64;
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<u64>, _: ()) -> Result<u64, ActorProcessingErr> {
//!         Ok(0)
//!     }
//!     async fn handle(&self, _: ActorRef<u64>, n: u64, sum: &mut u64) -> Result<(), ActorProcessingErr> {
//!         *sum += n;
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (counter, _) = Actor::spawn(None, Counter, ()).await.unwrap();
//! counter.cast(2).unwrap();
//! counter.cast(3).unwrap();
//! // The inspection waits behind the messages already queued: it sees both.
//! let sum = counter.inspect(|sum: &mut u64| *sum).await.unwrap();
//! assert_eq!(sum, 5);
//! # }
//! ```

use std::any::{Any, type_name};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::cell::Shared;
use crate::errors::{Panicked, Reason};
use crate::node::record_dead_letters;
use crate::runtime::{Outcome, run_boxed_hook};
use crate::{ActorProcessingErr, ActorRef};

/// A function the actor runs on its state, with the state's type name.
type InspectFn = Box<dyn FnOnce(&mut dyn Any, &'static str) + Send>;

/// A test's request, served in order with the messages (see `mailbox::control`).
pub(crate) enum Control {
    /// Run a function on the state.
    Inspect(InspectFn),
    /// Stop taking messages; acknowledge once suspended.
    Suspend(oneshot::Sender<()>),
}

/// What becomes of a message a hook has seen (see [`ActorRef::set_message_hook`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Directive {
    /// Handle it as usual.
    Handle,
    /// Drop it unhandled; it is counted as a dead letter ("dropped by a test hook").
    Drop,
    /// Wait this long (on tokio's clock, so paused time skips it), then handle it. The
    /// actor takes nothing else meanwhile; a kill still ends it at once.
    Delay(Duration),
    /// Fail the actor as if `handle` had returned this error; the message is dropped.
    Fail(String),
    /// Panic in the actor's task as if `handle` had panicked with this message.
    Panic(String),
    /// Never finish handling it: the actor hangs in `handle` (a stop waits behind it, as
    /// for any handler that never returns); only a kill ends it.
    Stall,
}

/// Why [`ActorRef::inspect`] or [`ActorRef::suspend`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InspectError {
    /// The actor ended before it got to the request.
    Ended,
    /// The state is not of the type asked for.
    StateType {
        /// The type the closure takes.
        expected: &'static str,
        /// The actor's `State` type.
        actual: &'static str,
    },
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectError::Ended => f.write_str("the actor ended before it could be inspected"),
            InspectError::StateType { expected, actual } => write!(
                f,
                "the actor's state is a `{actual}`, not a `{expected}`: \
                 inspect it with a closure taking `&mut {actual}`"
            ),
        }
    }
}

impl std::error::Error for InspectError {}

/// A message hook, stored per actor.
type Hook<M> = Arc<dyn Fn(&M) -> Directive + Send + Sync>;

/// An actor's hook slot (a field of its shared cell with `test-util`).
pub(crate) struct HookSlot<M> {
    set: AtomicBool,
    hook: RwLock<Option<Hook<M>>>,
}

impl<M> Default for HookSlot<M> {
    fn default() -> Self {
        HookSlot {
            set: AtomicBool::new(false),
            hook: RwLock::new(None),
        }
    }
}

impl<M> HookSlot<M> {
    /// Whether a hook is set (one relaxed load; checked per message).
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::Relaxed)
    }

    /// What the hook says about `msg` (`Handle` if it was cleared meanwhile).
    pub(crate) fn directive(&self, msg: &M) -> Directive {
        let hook = self
            .hook
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match hook {
            Some(hook) => hook(msg),
            None => Directive::Handle,
        }
    }

    fn replace(&self, hook: Option<Hook<M>>) {
        let set = hook.is_some();
        *self.hook.write().unwrap_or_else(PoisonError::into_inner) = hook;
        self.set.store(set, Ordering::Relaxed);
    }
}

/// Runs a test's request in the actor's task (called by the message loop).
pub(crate) fn run_control<M, S: Send + 'static>(
    shared: &Shared<M>,
    control: Control,
    state: &mut S,
) {
    match control {
        Control::Inspect(f) => f(state, type_name::<S>()),
        Control::Suspend(ack) => {
            shared.mailbox.suspend();
            let _ = ack.send(());
        }
    }
}

/// Applies the message hook to `msg` (called by the message loop when a hook is set):
/// the message back to be handled, or how its handling ended.
pub(crate) async fn intercept<M>(
    shared: &Shared<M>,
    ty: &'static str,
    msg: M,
) -> Result<M, Outcome<Result<(), ActorProcessingErr>>> {
    let directive = match catch_unwind(AssertUnwindSafe(|| shared.hook.directive(&msg))) {
        Ok(directive) => directive,
        Err(payload) => {
            return Err(Outcome::Panicked(Panicked::from_payload(
                "message hook",
                payload,
            )));
        }
    };
    match directive {
        Directive::Handle => Ok(msg),
        Directive::Drop => {
            drop(msg);
            record_dead_letters(shared, 1, "dropped by a test hook");
            Err(Outcome::Done(Ok(())))
        }
        Directive::Delay(wait) => {
            match run_boxed_hook(shared, "handle", ty, tokio::time::sleep(wait)).await {
                Outcome::Done(()) => Ok(msg),
                Outcome::Killed => Err(Outcome::Killed),
                Outcome::Panicked(p) => Err(Outcome::Panicked(p)),
            }
        }
        Directive::Fail(why) => Err(Outcome::Done(Err(Box::new(Reason(why))))),
        Directive::Panic(why) => {
            #[allow(clippy::panic)] // on purpose: this directive is a handler that panics
            let panicking = async move {
                std::panic::panic_any(why);
            };
            Err(run_boxed_hook(shared, "handle", ty, panicking)
                .await
                .map_done())
        }
        Directive::Stall => Err(
            run_boxed_hook(shared, "handle", ty, std::future::pending::<()>())
                .await
                .map_done(),
        ),
    }
}

impl Outcome<()> {
    fn map_done(self) -> Outcome<Result<(), ActorProcessingErr>> {
        match self {
            Outcome::Done(()) => Outcome::Done(Ok(())),
            Outcome::Panicked(p) => Outcome::Panicked(p),
            Outcome::Killed => Outcome::Killed,
        }
    }
}

/// Test hooks (feature `test-util`): see the [`testing`](crate::testing) module.
impl<M: Send + 'static> ActorRef<M> {
    /// Runs `f` on the actor's state, inside the actor, between two messages, and returns
    /// what it returns. Like a system message in an Erlang mailbox, the request waits
    /// behind the messages queued before it (so it sees what they did) and ahead of those
    /// sent after it; while the actor is [suspended](Self::suspend) it is served at once.
    /// If `f` panics, the panic resumes in the caller (the actor is unaffected).
    ///
    /// # Errors
    /// [`InspectError::Ended`] if the actor ended first; [`InspectError::StateType`] if
    /// its state is not an `S`.
    pub async fn inspect<S, R, F>(&self, f: F) -> Result<R, InspectError>
    where
        S: 'static,
        R: Send + 'static,
        F: FnOnce(&mut S) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let run: InspectFn = Box::new(move |state, actual| {
            let out = match state.downcast_mut::<S>() {
                Some(state) => Ok(catch_unwind(AssertUnwindSafe(|| f(state)))),
                None => Err(InspectError::StateType {
                    expected: type_name::<S>(),
                    actual,
                }),
            };
            let _ = tx.send(out);
        });
        if self.inner.control(Control::Inspect(run)).is_err() {
            return Err(InspectError::Ended);
        }
        match rx.await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(panic))) => resume_unwind(panic),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(InspectError::Ended),
        }
    }

    /// Suspends the actor's message handling, as `sys:suspend/1` does: the request waits
    /// behind the messages queued before it, and returns once the actor has handled them;
    /// messages sent after it wait in the mailbox (counting against its capacity) until
    /// [`resume`](Self::resume). Served meanwhile: [`inspect`](Self::inspect),
    /// supervision events, stop and kill. A `drain` waits while suspended. Idempotent.
    ///
    /// # Errors
    /// [`InspectError::Ended`] if the actor ended first.
    pub async fn suspend(&self) -> Result<(), InspectError> {
        let (tx, rx) = oneshot::channel();
        if self.inner.control(Control::Suspend(tx)).is_err() {
            return Err(InspectError::Ended);
        }
        rx.await.map_err(|_| InspectError::Ended)
    }

    /// Resumes message handling after [`suspend`](Self::suspend). Does nothing if the
    /// actor is not suspended or has ended.
    pub fn resume(&self) {
        self.inner.mailbox.resume();
    }

    /// Calls `hook` with every message the actor takes, just before its `handle`, in the
    /// actor's task; the [`Directive`] it returns decides what becomes of the message.
    /// Replaces an earlier hook. A trace is a hook that records and returns
    /// [`Directive::Handle`]; fault injection returns the others. The hook must not block.
    pub fn set_message_hook(&self, hook: impl Fn(&M) -> Directive + Send + Sync + 'static) {
        self.inner.hook.replace(Some(Arc::new(hook)));
    }

    /// Removes the message hook: messages are handled as usual again.
    pub fn clear_message_hook(&self) {
        self.inner.hook.replace(None);
    }
}
