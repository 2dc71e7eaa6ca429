//! Node-wide counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::ActorId;
use crate::cell::Shared;

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

type Hook = Arc<dyn Fn(&DeadLetters) + Send + Sync>;

static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// Calls `hook` for every batch of dead letters on this node (after the counters and the
/// `tracing` event), replacing any previous hook. The hook runs on the thread that
/// dropped the messages: keep it short and never block in it.
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
    *HOOK.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
}

/// Removes the hook set with [`set_dead_letter_hook`].
pub fn clear_dead_letter_hook() {
    *HOOK.write().unwrap_or_else(PoisonError::into_inner) = None;
}

static DEAD_LETTERS: AtomicU64 = AtomicU64::new(0);

/// How many messages on this node were dropped undelivered since the process started:
/// left queued when their actor stopped (or accepted while it was stopping), shed by a
/// full `DropOldest`/`DropNewest` mailbox, left in an actor whose task was dropped, or
/// held by a timer whose actor ended first. Messages refused with `SendError` are not
/// dead letters: they went back to their sender.
///
/// They are also reported as `tracing` events (target `ensemble::dead_letters`, level
/// DEBUG, one per batch with a `count` field) and, with the `metrics` feature (on by
/// default), counted in the `metrics` counter `ensemble_dead_letters_total`.
pub fn dead_letters() -> u64 {
    DEAD_LETTERS.load(Ordering::Relaxed)
}

/// Counts `n` dead letters for the actor behind `shared` (takes its mailbox lock: never
/// call it with that lock held).
pub(crate) fn record_dead_letters<M>(shared: &Shared<M>, n: usize, why: &'static str) {
    if n == 0 {
        return;
    }
    let n = n as u64;
    shared.mailbox.add_dead_letters(n);
    let header = &shared.header;
    DEAD_LETTERS.fetch_add(n, Ordering::Relaxed);
    #[cfg(feature = "metrics")]
    metrics::counter!("ensemble_dead_letters_total").increment(n);
    tracing::debug!(
        target: "ensemble::dead_letters",
        actor = %header.id,
        name = header.name.as_deref().unwrap_or(""),
        count = n,
        why,
        "messages dropped undelivered"
    );
    let hook = HOOK.read().unwrap_or_else(PoisonError::into_inner).clone();
    if let Some(hook) = hook {
        hook(&DeadLetters {
            actor: header.id,
            name: header.name.as_deref().map(str::to_owned),
            count: n,
            reason: why,
        });
    }
}
