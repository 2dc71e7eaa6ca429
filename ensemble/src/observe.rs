//! What the runtime does around a hook when something watches: the busy stamp and
//! handler time for introspection, and the `actor` and `message` spans for `tracing`.
//!
//! The fast path pays one relaxed load of [`WATCHED`] per poll of a hook; everything
//! else happens on the cold path, taken once the panic hook is installed, a system
//! tracks its actors, or DEBUG was enabled (in `tracing`) when an actor started.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use tracing::level_filters::LevelFilter;

use crate::cell::Header;
use crate::introspect::note_busy;

/// Why hooks take the watched path (bits, set once, never cleared): the panic hook is
/// installed, a system tracks its actors, spans may be wanted.
static WATCHED: AtomicU8 = AtomicU8::new(0);
const PANICS: u8 = 1;
const TRACKING: u8 = 2;
const SPANS: u8 = 4;

/// Some system turned introspection on.
pub(crate) fn activate() {
    WATCHED.fetch_or(TRACKING, Ordering::Relaxed);
}

/// The panic hook is installed.
pub(crate) fn route_panics() {
    WATCHED.fetch_or(PANICS, Ordering::Relaxed);
}

/// Whether panics are routed through `tracing` (see `panics`).
#[inline]
pub(crate) fn panics_routed() -> bool {
    WATCHED.load(Ordering::Relaxed) & PANICS != 0
}

/// Called when an actor starts: if DEBUG is enabled anywhere in `tracing` now, hooks
/// take the watched path from now on (for the `actor` span). One load and a compare.
#[inline]
pub(crate) fn actor_started() {
    if LevelFilter::current() >= LevelFilter::DEBUG && WATCHED.load(Ordering::Relaxed) & SPANS == 0
    {
        WATCHED.fetch_or(SPANS, Ordering::Relaxed);
    }
}

/// Whether a hook's poll must take the watched path.
#[inline(always)]
pub(crate) fn active() -> bool {
    WATCHED.load(Ordering::Relaxed) != 0
}

/// What one observed poll started: the clock, and the spans entered.
pub(crate) struct Poll {
    started: Option<Instant>,
    spans: Option<(tracing::Span, Option<tracing::Span>)>,
}

/// Before a poll of `hook` of an actor of type `type_name`.
#[cold]
pub(crate) fn begin(header: &Header, hook: &'static str, type_name: &'static str) -> Poll {
    let tracker = header.system.tracker();
    let started = tracker.enabled().then(|| {
        if header.busy_since() == 0 {
            header.set_busy(tracker.busy_stamp());
        }
        Instant::now()
    });
    let spans = tracing::enabled!(target: "ensemble::actor", tracing::Level::DEBUG).then(|| {
        let short = crate::introspect::short_type(type_name);
        let (actor, message) = header.spans(|| {
            tracing::debug_span!(target: "ensemble::actor", "actor",
                id = %header.id,
                name = header.name.as_deref().unwrap_or(""),
                r#type = short)
        });
        let message = match message {
            Some(m) => Some(m),
            None if hook == "handle"
                && tracing::enabled!(target: "ensemble::message", tracing::Level::TRACE) =>
            {
                let m = actor.in_scope(
                    || tracing::trace_span!(target: "ensemble::message", "message", hook),
                );
                header.set_message_span(Some(m.clone()));
                Some(m)
            }
            None => None,
        };
        (actor, message)
    });
    Poll { started, spans }
}

/// Runs `f` (the poll) inside the spans `poll` entered.
#[inline]
pub(crate) fn within<R>(poll: &Poll, f: impl FnOnce() -> R) -> R {
    match &poll.spans {
        Some((actor, Some(message))) => actor.in_scope(|| message.in_scope(f)),
        Some((actor, None)) => actor.in_scope(f),
        None => f(),
    }
}

/// After the poll: handler time, and the end of the busy stamp and the message span
/// when the hook is done.
#[cold]
pub(crate) fn end(header: &Header, type_name: &'static str, poll: Poll, done: bool) {
    if let Some(started) = poll.started {
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        note_busy(header.system.tracker(), type_name, nanos);
    }
    if done {
        if header.busy_since() != 0 {
            header.set_busy(0);
        }
        if poll.spans.as_ref().is_some_and(|(_, m)| m.is_some()) {
            header.set_message_span(None);
        }
    }
}
