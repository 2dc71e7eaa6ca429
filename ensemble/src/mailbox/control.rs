//! The mailbox's side of the test hooks (feature `test-util`): tests' requests, served in
//! order with the messages, and suspension.
//!
//! A request waits behind the messages queued before it, as a system message does in an
//! Erlang mailbox: it is handed to the actor (by `poll_next`, so only once the actor's
//! batch is done) when every one of them has been taken and handled. While the actor is
//! suspended, requests are served at once, as `sys` serves a suspended process.

use super::{Mailbox, Slots};
use crate::testing::Control;

/// Whether a request is due, or how many messages may still be taken before the next one.
pub(super) enum Due {
    Now(Control),
    After(usize),
}

impl<M, E> Slots<M, E> {
    /// The request to serve now, or how many messages may be taken first (none while
    /// suspended, all when no request waits).
    pub(super) fn due_control(&mut self) -> Due {
        let Some(side) = self.side.as_mut() else {
            return Due::After(usize::MAX);
        };
        match side.controls.front() {
            Some(&(ahead, _)) if ahead == 0 || side.suspended => match side.controls.pop_front() {
                Some((_, control)) => Due::Now(control),
                None => Due::After(usize::MAX),
            },
            _ if side.suspended => Due::After(0),
            Some(&(ahead, _)) => Due::After(ahead),
            None => Due::After(usize::MAX),
        }
    }

    /// Counts `n` messages taken against the requests waiting behind them.
    pub(super) fn taken(&mut self, n: usize) {
        if let Some(side) = self.side.as_mut() {
            for (ahead, _) in &mut side.controls {
                *ahead = ahead.saturating_sub(n);
            }
        }
    }
}

impl<M, E> Mailbox<M, E> {
    /// Queues a test's request behind the messages queued now, or hands it back if the
    /// mailbox has ended.
    pub(crate) fn deliver_control(&self, control: Control) -> Result<(), Control> {
        let mut slots = self.lock();
        if slots.ended {
            return Err(control);
        }
        let ahead = slots.msgs.len();
        slots.side().controls.push_back((ahead, control));
        let waker = slots.waker.take();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Suspends message handling (the actor calls this with its batch done).
    pub(crate) fn suspend(&self) {
        self.lock().side().suspended = true;
    }

    /// Resumes message handling.
    pub(crate) fn resume(&self) {
        let mut slots = self.lock();
        let Some(side) = slots.side.as_mut() else {
            return;
        };
        side.suspended = false;
        let waker = slots.waker.take();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
    }
}
