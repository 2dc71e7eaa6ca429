//! Node-wide counters.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::cell::Header;

static DEAD_LETTERS: AtomicU64 = AtomicU64::new(0);

/// How many messages on this node were dropped undelivered since the process started:
/// left queued when their actor stopped, or accepted while it was stopping.
///
/// They are also reported as `tracing` events (target `ensemble::dead_letters`, level
/// DEBUG, one per batch with a `count` field) and counted in the `metrics` counter
/// `ensemble_dead_letters_total`.
pub fn dead_letters() -> u64 {
    DEAD_LETTERS.load(Ordering::Relaxed)
}

/// Counts `n` dead letters for the actor behind `header`.
pub(crate) fn record_dead_letters(header: &Header, n: usize, why: &'static str) {
    if n == 0 {
        return;
    }
    let n = n as u64;
    header.add_dead_letters(n);
    DEAD_LETTERS.fetch_add(n, Ordering::Relaxed);
    metrics::counter!("ensemble_dead_letters_total").increment(n);
    tracing::debug!(
        target: "ensemble::dead_letters",
        actor = %header.id,
        name = header.name.as_deref().unwrap_or(""),
        count = n,
        why,
        "messages dropped undelivered"
    );
}
