//! Timers: messages later or at intervals, and stops or kills after a delay.
//!
//! Each timer is a small tokio task holding a ref to its actor. It ends by itself when
//! the actor ends. Dropping the [`TimerHandle`] leaves the timer running (as with a
//! tokio `JoinHandle`); call [`TimerHandle::cancel`] to stop it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
//! enum Msg { Tick, Count(RpcReplyPort<u32>) }
//! struct Ticker;
//! impl Actor for Ticker {
//!     type Msg = Msg;
//!     type State = u32;
//!     type Arguments = ();
//!     async fn pre_start(&self, me: ActorRef<Msg>, _: ()) -> Result<u32, ActorProcessingErr> {
//!         // Ends with the actor; the handle is not needed.
//!         let _ = me.send_interval(Duration::from_secs(1), || Msg::Tick);
//!         Ok(0)
//!     }
//!     async fn handle(&self, _: ActorRef<Msg>, msg: Msg, ticks: &mut u32) -> Result<(), ActorProcessingErr> {
//!         match msg {
//!             Msg::Tick => *ticks += 1,
//!             Msg::Count(reply) => reply.send(*ticks)?,
//!         }
//!         Ok(())
//!     }
//! }
//! let (ticker, _) = Actor::spawn(None, Ticker, ()).await.unwrap();
//! tokio::time::sleep(Duration::from_millis(3500)).await; // paused time: instant
//! assert_eq!(ticker.call(Msg::Count, None).await.unwrap(), 3);
//! # }
//! ```

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::node::record_dead_letters;
use crate::{ActorRef, SendError};

/// `now + delay`, or about 30 years from now if that cannot be represented: a huge delay
/// means "practically never", never a panic.
fn far_instant(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay)
        .or_else(|| now.checked_add(Duration::from_secs(30 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// A running timer (or stream feed). Dropping it does not cancel it.
#[derive(Debug)]
pub struct TimerHandle(JoinHandle<()>);

impl TimerHandle {
    pub(crate) fn new(task: JoinHandle<()>) -> Self {
        TimerHandle(task)
    }

    /// Stops the timer; a message not yet sent is never sent.
    pub fn cancel(&self) {
        self.0.abort();
    }

    /// Whether the timer has fired (one-shot), ended with its actor, or was cancelled.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl<M: Send + 'static> ActorRef<M> {
    /// Casts `message` after `delay`. If the actor ends first, the message is dropped and
    /// counted as a dead letter.
    ///
    /// `message` is the message itself, or a closure that makes it when the timer fires
    /// (`|| Msg::Tick`, as ractor's `send_after` takes).
    pub fn send_after<T, K>(&self, delay: Duration, message: T) -> TimerHandle
    where
        T: TimerMessage<M, K>,
    {
        let actor = self.clone();
        // Deadlines are fixed now, not when the timer task first runs.
        let deadline = far_instant(delay);
        TimerHandle(tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {
                    match actor.cast(message.into_message()) {
                        Ok(()) => {}
                        // Counted as rejected by the mailbox.
                        Err(SendError::Full(_)) => {
                            tracing::debug!(actor = %actor.id(), "timer message refused: mailbox full");
                        }
                        Err(_) => record_dead_letters(&actor.inner, 1, "timer: actor ended first"),
                    }
                }
                _ = actor.inner.header.exited() => {
                    record_dead_letters(&actor.inner, 1, "timer: actor ended first");
                }
            }
        }))
    }

    /// Casts `make()` every `period` (first after one period; a period under 1 ms is 1 ms)
    /// until the actor ends or the timer is cancelled. A tick that finds a bounded mailbox full is skipped (and
    /// counted as rejected); late ticks are delayed, not bunched.
    pub fn send_interval<F>(&self, period: Duration, mut make: F) -> TimerHandle
    where
        F: FnMut() -> M + Send + 'static,
    {
        let actor = self.clone();
        let period = period.max(Duration::from_millis(1));
        let first = far_instant(period);
        TimerHandle(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(first, period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let mut exited = std::pin::pin!(actor.inner.header.exited());
            loop {
                tokio::select! {
                    _ = ticks.tick() => {
                        if let Err(SendError::Closed(_)) = actor.cast(make()) {
                            return;
                        }
                    }
                    _ = &mut exited => return,
                }
            }
        }))
    }

    /// Stops the actor after `delay` (as [`stop`](Self::stop), with no reason; ractor's
    /// and Erlang's `exit_after`). [`stop_after`](Self::stop_after) gives a reason.
    pub fn exit_after(&self, delay: Duration) -> TimerHandle {
        self.stop_after(delay, None)
    }

    /// Stops the actor with `reason` after `delay` (as [`stop`](Self::stop)).
    pub fn stop_after(&self, delay: Duration, reason: Option<String>) -> TimerHandle {
        let actor = self.clone();
        let deadline = far_instant(delay);
        TimerHandle(tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => actor.stop(reason),
                _ = actor.inner.header.exited() => {}
            }
        }))
    }

    /// Kills the actor after `delay` (as [`kill`](Self::kill)).
    pub fn kill_after(&self, delay: Duration) -> TimerHandle {
        let actor = self.clone();
        let deadline = far_instant(delay);
        TimerHandle(tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => actor.kill(),
                _ = actor.inner.header.exited() => {}
            }
        }))
    }
}

/// What [`ActorRef::send_after`] takes: the message itself, or a closure that makes it
/// when the timer fires. `K` tells the two apart (`Value` or `Closure`) and is inferred;
/// code never names it.
pub trait TimerMessage<M, K>: Send + 'static {
    /// The message to cast.
    fn into_message(self) -> M;
}

/// [`TimerMessage`]'s marker for a message given as itself.
#[derive(Debug)]
pub enum Value {}

/// [`TimerMessage`]'s marker for a message made by a closure.
#[derive(Debug)]
pub enum Closure {}

impl<M: Send + 'static> TimerMessage<M, Value> for M {
    #[inline]
    fn into_message(self) -> M {
        self
    }
}

impl<M, F> TimerMessage<M, Closure> for F
where
    F: FnOnce() -> M + Send + 'static,
{
    #[inline]
    fn into_message(self) -> M {
        self()
    }
}
