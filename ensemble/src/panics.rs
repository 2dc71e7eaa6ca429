//! Panics inside actors, logged through `tracing` instead of the default panic hook.
//!
//! The runtime catches a panic in any hook and reports it to the supervisor as
//! [`ActorFailed`](crate::SupervisionEvent::ActorFailed), so the actor's crash is handled.
//! But Rust's default panic hook runs first, before the unwinding reaches the runtime: it
//! prints `thread '…' panicked at …` to stderr for every crash, and with
//! `RUST_BACKTRACE=1` a backtrace of some sixty frames, however routine the crash is for
//! a supervised system.
//!
//! [`install_tracing_hook`] replaces that, for panics inside actors only, by one `tracing`
//! event at ERROR level on target `ensemble::panic`, with the actor's id and name, the
//! panic message and where it happened. Panics anywhere else (in `main`, in tasks you
//! spawn yourself, in other threads) still go to the hook that was installed before, so
//! nothing outside actors is hidden.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use ensemble::{Actor, ActorProcessingErr, ActorRef};
//! struct Fragile;
//! impl Actor for Fragile {
//!     type Msg = ();
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
//!     async fn handle(&self, _: ActorRef<()>, _: (), _: &mut ()) -> Result<(), ActorProcessingErr> {
//!         panic!("routine crash") // logged as one tracing event, not printed by the default hook
//!     }
//! }
//! ensemble::panics::install_tracing_hook(); // once, early in main
//! let (actor, handle) = Actor::spawn(None, Fragile, ()).await.unwrap();
//! actor.cast(()).unwrap();
//! handle.await.unwrap(); // the actor failed; the runtime carried on
//! # }
//! ```

use std::cell::Cell;
use std::panic::PanicHookInfo;
use std::sync::Once;

use crate::ActorId;

thread_local! {
    /// The local part of the id of the actor whose code this thread is running now; 0
    /// when none (local ids start at 1).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// Whether [`install_tracing_hook`] has run: until then, threads are not marked (one
/// relaxed load per poll of a hook, shared with introspection's, is all it costs).
#[inline]
pub(crate) fn routed() -> bool {
    crate::observe::panics_routed()
}

/// Runs `f` (one poll of one of `actor`'s hooks) with this thread marked as running that
/// actor's code, then restores the mark that was there: hooks may nest, as when a
/// `pre_start` spawns another actor. Out of line: it runs only once the hook is
/// installed, and keeps the common path small.
#[cold]
#[inline(never)]
pub(crate) fn running<T>(actor: ActorId, f: impl FnOnce() -> T) -> T {
    struct Restore(u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(actor.local())));
    f()
}

/// The actor whose code the current thread is running, if any. Known only once
/// [`install_tracing_hook`] has been called (before that, always `None`).
pub fn current_actor() -> Option<ActorId> {
    let local = CURRENT.with(Cell::get);
    (local != 0).then(|| ActorId::new(0, local))
}

/// Routes panics inside actors through `tracing` (one ERROR event on target
/// `ensemble::panic` with fields `actor`, `name`, `location` and the panic message) instead
/// of the panic hook in place when this is called; every other panic still goes to that
/// hook. Call it once, early in `main`; later calls do nothing.
///
/// The actor still fails as before: its supervisor hears `ActorFailed` with the panic
/// message, and an actor without a supervisor is reported by the runtime at ERROR.
pub fn install_tracing_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| match current_actor() {
            Some(actor) => log_actor_panic(actor, info),
            None => previous(info),
        }));
        crate::observe::route_panics();
    });
}

fn log_actor_panic(actor: ActorId, info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload");
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let name = crate::registry::name_of(actor).unwrap_or_default();
    tracing::error!(
        target: "ensemble::panic",
        actor = %actor,
        name = %name,
        location = %location,
        "actor panicked: {message} (caught; its supervisor is told)"
    );
}
