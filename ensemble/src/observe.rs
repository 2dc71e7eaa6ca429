//! What the runtime does around a hook when something watches: the busy stamp and
//! handler time for introspection, and the `actor` and `message` spans for `tracing`.
//!
//! The fast path pays one relaxed load of [`ACTIVE`] and one of tracing's global level
//! per poll of a hook; everything else happens on the cold path, taken only when a
//! system tracks its actors or DEBUG is enabled somewhere.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tracing::level_filters::LevelFilter;

use crate::cell::Header;
use crate::introspect::note_busy;

/// Whether any system tracks its actors (set once, never cleared).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Some system turned introspection on.
pub(crate) fn activate() {
    ACTIVE.store(true, Ordering::Relaxed);
}

/// Whether a hook's poll must take the observed path.
#[inline(always)]
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed) || LevelFilter::current() >= LevelFilter::DEBUG
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
