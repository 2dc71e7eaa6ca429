//! The per-actor mailbox: one lock guarding a typed message queue and the signal lanes.
//!
//! Senders push under a short critical section and wake the actor only when it is parked.
//! The actor takes *all* queued messages in one critical section (swapping the sender
//! side's buffer with its own empty one), then handles them without touching the lock,
//! checking a single atomic flag between messages for signals. Signals (kill, stop,
//! supervision events) therefore overtake queued messages and are never blocked by them.
//!
//! Nothing is allocated until a message is queued: an idle actor's mailbox is a mutex and
//! two empty `VecDeque`s.

use std::collections::VecDeque;
use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::SupervisionEvent;

/// What the actor loop should do next, in priority order.
pub(crate) enum Signal {
    /// Abort now; `post_stop` does not run.
    Kill,
    /// Stop after the running handler; queued messages become dead letters.
    Stop(Option<String>),
    /// A supervision event from a linked child or a monitored actor.
    Event(SupervisionEvent),
}

/// The result of waiting for work.
pub(crate) enum Next {
    Signal(Signal),
    /// Messages were moved into the actor's local batch.
    Messages,
    /// The mailbox is closed (draining) and empty: the actor should stop normally.
    Drained,
}

pub(crate) struct Mailbox<M> {
    /// Set (under the lock) whenever a signal or event is pending; read without the lock
    /// between messages.
    signaled: AtomicBool,
    slots: Mutex<Slots<M>>,
}

struct Slots<M> {
    msgs: VecDeque<M>,
    events: VecDeque<SupervisionEvent>,
    stop: Option<Option<String>>,
    kill: bool,
    /// No more messages are accepted (draining, stopping or ended).
    closed: bool,
    /// No more signals or events are accepted (ended).
    ended: bool,
    waker: Option<Waker>,
}

impl<M> Slots<M> {
    fn has_signal(&self) -> bool {
        self.kill || self.stop.is_some() || !self.events.is_empty()
    }

    fn take_waker(&mut self) -> Option<Waker> {
        self.waker.take()
    }

    fn set_waker(&mut self, cx: &Context<'_>) {
        match &self.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => self.waker = Some(cx.waker().clone()),
        }
    }
}

impl<M> Mailbox<M> {
    pub(crate) fn new() -> Self {
        Mailbox {
            signaled: AtomicBool::new(false),
            slots: Mutex::new(Slots {
                msgs: VecDeque::new(),
                events: VecDeque::new(),
                stop: None,
                kill: false,
                closed: false,
                ended: false,
                waker: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots<M>> {
        // No user code runs under this lock, so poisoning cannot leave it inconsistent.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a message, or hands it back if the mailbox is closed.
    #[inline]
    pub(crate) fn push(&self, msg: M) -> Result<(), M> {
        let mut slots = self.lock();
        if slots.closed {
            return Err(msg);
        }
        slots.msgs.push_back(msg);
        let waker = slots.take_waker();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    fn signal_with(&self, f: impl FnOnce(&mut Slots<M>) -> bool) -> bool {
        let mut slots = self.lock();
        if slots.ended || !f(&mut slots) {
            return false;
        }
        self.signaled.store(true, Ordering::Release);
        let waker = slots.take_waker();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Asks the actor to stop. The first reason given wins.
    pub(crate) fn stop(&self, reason: Option<String>) {
        self.signal_with(|s| {
            if s.stop.is_none() {
                s.stop = Some(reason);
            }
            true
        });
    }

    /// Asks the actor to abort.
    pub(crate) fn kill(&self) {
        self.signal_with(|s| {
            s.kill = true;
            true
        });
    }

    /// Delivers a supervision event, or hands it back if the actor has ended.
    pub(crate) fn event(&self, evt: SupervisionEvent) -> Result<(), SupervisionEvent> {
        let mut slots = self.lock();
        if slots.ended {
            return Err(evt);
        }
        slots.events.push_back(evt);
        self.signaled.store(true, Ordering::Release);
        let waker = slots.take_waker();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Closes the mailbox to new messages while letting the actor handle what is queued.
    /// Returns `false` if it was already closed.
    pub(crate) fn drain(&self) -> bool {
        let mut slots = self.lock();
        if slots.closed {
            return false;
        }
        slots.closed = true;
        let waker = slots.take_waker();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// The fast check made between messages.
    #[inline]
    pub(crate) fn signaled(&self) -> bool {
        self.signaled.load(Ordering::Acquire)
    }

    /// Takes the highest-priority pending signal.
    pub(crate) fn take_signal(&self) -> Option<Signal> {
        let mut slots = self.lock();
        let sig = Self::take_signal_locked(&mut slots);
        if !slots.has_signal() {
            self.signaled.store(false, Ordering::Release);
        }
        sig
    }

    fn take_signal_locked(slots: &mut Slots<M>) -> Option<Signal> {
        if slots.kill {
            slots.kill = false;
            Some(Signal::Kill)
        } else if let Some(reason) = slots.stop.take() {
            Some(Signal::Stop(reason))
        } else {
            slots.events.pop_front().map(Signal::Event)
        }
    }

    /// Waits for work: a signal, or messages (moved into `batch`, which must be empty).
    pub(crate) fn poll_next(&self, batch: &mut VecDeque<M>, cx: &Context<'_>) -> Poll<Next> {
        let mut slots = self.lock();
        if slots.has_signal() {
            let sig = Self::take_signal_locked(&mut slots);
            if !slots.has_signal() {
                self.signaled.store(false, Ordering::Release);
            }
            if let Some(sig) = sig {
                return Poll::Ready(Next::Signal(sig));
            }
        }
        if !slots.msgs.is_empty() {
            debug_assert!(batch.is_empty());
            mem::swap(batch, &mut slots.msgs);
            return Poll::Ready(Next::Messages);
        }
        if slots.closed {
            return Poll::Ready(Next::Drained);
        }
        slots.set_waker(cx);
        Poll::Pending
    }

    /// Used while a hook is pending: whether a kill was requested. Otherwise registers the
    /// task's waker so that a later kill wakes it.
    pub(crate) fn poll_kill(&self, cx: &Context<'_>) -> bool {
        let mut slots = self.lock();
        if slots.kill {
            return true;
        }
        slots.set_waker(cx);
        false
    }

    /// Closes the mailbox to messages and returns whatever was still queued.
    pub(crate) fn close(&self) -> VecDeque<M> {
        let mut slots = self.lock();
        slots.closed = true;
        mem::take(&mut slots.msgs)
    }

    /// Marks the actor as ended: no more messages, signals or events are accepted.
    /// Returns what was still queued, to be dropped by the caller outside the lock.
    pub(crate) fn end(&self) -> (VecDeque<M>, VecDeque<SupervisionEvent>) {
        let mut slots = self.lock();
        slots.closed = true;
        slots.ended = true;
        slots.kill = false;
        slots.stop = None;
        slots.waker = None;
        self.signaled.store(false, Ordering::Release);
        (mem::take(&mut slots.msgs), mem::take(&mut slots.events))
    }
}
