//! Dead letters: messages dropped undelivered, counted and reported per [`ActorSystem`].

use crate::cell::Shared;
use crate::{ActorId, ActorSystem};

/// A report of messages dropped undelivered, given to the hook set with
/// [`set_dead_letter_hook`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeadLetters {
    /// The actor they were addressed to.
    pub actor: ActorId,
    /// Its registered name, if any.
    pub name: Option<String>,
    /// How many messages.
    pub count: u64,
    /// Why: `"actor stopped"`, `"shed: mailbox full"`, `"actor task dropped"`, …
    pub reason: &'static str,
}

/// Calls `hook` for every batch of dead letters in the global [`ActorSystem`] (after the
/// counters and the `tracing` event), replacing any previous hook. The hook runs on the
/// thread that dropped the messages: keep it short and never block in it.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// static SEEN: AtomicU64 = AtomicU64::new(0);
/// ensemble::node::set_dead_letter_hook(|d| {
///     SEEN.fetch_add(d.count, Ordering::Relaxed);
/// });
/// # ensemble::node::clear_dead_letter_hook();
/// ```
pub fn set_dead_letter_hook(hook: impl Fn(&DeadLetters) + Send + Sync + 'static) {
    ActorSystem::global().set_dead_letter_hook(hook);
}

/// Removes the hook set with [`set_dead_letter_hook`].
pub fn clear_dead_letter_hook() {
    ActorSystem::global().clear_dead_letter_hook();
}

/// How many messages addressed to the global system's actors were dropped undelivered
/// since the process started: left queued when their actor stopped (or accepted while it
/// was stopping), shed by a full `DropOldest`/`DropNewest` mailbox, left in an actor whose
/// task was dropped, or held by a timer whose actor ended first. Messages refused with
/// `SendError` are not dead letters: they went back to their sender. Other systems count
/// their own ([`ActorSystem::dead_letters`]).
///
/// They are also reported as `tracing` events (target `ensemble::dead_letters`, level
/// DEBUG, one per batch with a `count` field), counted by reason in the system's
/// [`snapshot`](crate::ActorSystem::snapshot), and, with the `metrics` feature, published
/// as the counter `ensemble_dead_letters_total{reason}` by
/// [`introspect::publish_metrics`](crate::introspect::publish_metrics).
pub fn dead_letters() -> u64 {
    ActorSystem::global().dead_letters()
}

/// Counts `n` dead letters for the actor behind `shared`, in its system (takes its
/// mailbox lock: never call it with that lock held).
pub(crate) fn record_dead_letters<M>(shared: &Shared<M>, n: usize, why: &'static str) {
    if n > 0 {
        shared.header.system.record_dead_letters(shared, n, why);
    }
}
