//! The per-actor mailbox: one lock guarding a typed message queue and the signal lanes.
//!
//! Senders push under a short critical section and wake the actor only when it is parked.
//! The actor takes *all* queued messages in one critical section (swapping the sender
//! side's buffer with its own empty one), then handles them without touching the lock,
//! checking a single atomic flag between messages for signals. Signals (kill, stop,
//! supervision events) therefore overtake queued messages and are never blocked by them.
//! A bounded mailbox hands over its queue the same way, but keeps counting the messages
//! beyond the one in hand against its bound until the actor is back for more, so the bound
//! is exact with one lock per batch (`DropOldest` hands over one at a time: its oldest
//! message must stay in the queue to be dropped); senders waiting for room queue under the
//! same lock (see [`wait`]).
//!
//! Nothing is allocated until a message is queued: an idle actor's mailbox is a mutex and
//! an empty `VecDeque`.
//!
//! This module is the bottom layer of the runtime: it knows nothing of actors, cells or
//! supervision. The event lane carries any `E`, and the flag the actor reads between
//! messages ([`SignalFlag`]) is kept by the caller, wherever its layout wants it. Its
//! synchronisation comes from `crate::sync`, so the same code runs under the loom model
//! checker (`mailbox::model`).

mod config;
#[cfg(feature = "test-util")]
mod control;
#[cfg(all(test, ensemble_loom))]
mod model;
mod wait;

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::mem;
use std::pin::pin;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker, ready};

use tokio::time::Instant;

pub use config::{MailboxConfig, MailboxStats, Overflow};

use crate::sync::{AtomicBool, AtomicU64, Mutex, MutexGuard};
use wait::{RoomWait, SendWait, Waiters, Wakes};

/// The bounded part of a mailbox; allocated only for bounded actors.
struct Bound {
    capacity: usize,
    overflow: Overflow,
    calls_wait: bool,
    rejected: AtomicU64,
    shed: AtomicU64,
}

/// The actor's own counts, kept in its task (4 bytes) so that counting costs nothing per
/// message: what it has handled since it last published `MailboxStats::handled` (done
/// under the lock it takes anyway for each batch of mail), and what it has handled since
/// it last yielded or parked (it yields every `YIELD_EVERY`). Neither exceeds 128.
#[derive(Default)]
pub(crate) struct Progress {
    unpublished: u16,
    since_yield: u16,
}

impl Progress {
    /// A message's handler returned.
    #[inline]
    pub(crate) fn handled(&mut self) {
        self.unpublished += 1;
        self.since_yield += 1;
    }

    /// A supervision event's handler returned (not a message, but work all the same).
    pub(crate) fn event(&mut self) {
        self.since_yield += 1;
    }

    /// Whether the actor has worked long enough to owe the scheduler a yield.
    #[inline]
    pub(crate) fn should_yield(&self, every: u16) -> bool {
        self.since_yield >= every
    }
}

/// Why a push did not simply queue the message.
pub(crate) enum Refused<M> {
    Closed(M),
    Full(M),
}

/// A push that succeeded may have shed a message (the new one or the oldest).
pub(crate) enum Pushed<M> {
    Queued,
    Shed(Option<M>),
}

/// What the actor loop should do next, in priority order.
pub(crate) enum Signal<E> {
    /// Abort now; `post_stop` does not run.
    Kill,
    /// Stop after the running handler; queued messages become dead letters.
    Stop(Option<String>),
    /// An event for the event lane (a supervision event).
    Event(E),
    /// A test's request (inspect the state, suspend): see `testing`.
    #[cfg(feature = "test-util")]
    Control(crate::testing::Control),
}

/// The result of waiting for work.
pub(crate) enum Next<E> {
    Signal(Signal<E>),
    /// Messages were moved into the actor's local batch.
    Messages,
    /// The mailbox is closed (draining) and empty: the actor should stop normally.
    Drained,
}

/// Set (under the mailbox lock) whenever a signal or event is pending; read by the actor
/// without the lock between messages. The mailbox's caller owns it, so that it can sit
/// on whichever cache line suits the actor (see `cell::Header`).
pub(crate) struct SignalFlag(AtomicBool);

impl SignalFlag {
    pub(crate) fn new() -> Self {
        SignalFlag(AtomicBool::new(false))
    }

    /// The fast check made between messages.
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, on: bool) {
        self.0.store(on, Ordering::Release);
    }
}

/// One actor's mailbox: messages `M`, events `E`, and the kill and stop signals.
///
/// `repr(C)`, hot first: what a sender touches for every message (`bound`, the lock, the
/// queue, the waker, `received`, the flags) comes first; what changes rarely comes last,
/// so that the block's tail, which may share a cache line with the next allocation (often
/// another actor's reference counts), is cold.
#[repr(C)]
pub(crate) struct Mailbox<M, E> {
    bound: Option<Box<Bound>>,
    slots: Mutex<Slots<M, E>>,
}

/// The rarely used parts of a mailbox, allocated on first use: the event lane, the
/// senders waiting for room and a stop's reason. Boxed so that a plain actor pays 8 bytes
/// for them.
struct Side<E> {
    events: VecDeque<E>,
    waiters: Waiters,
    stop_reason: Option<Box<str>>,
    /// Tests' requests (`testing`), each with the number of messages queued before it
    /// still to be taken.
    #[cfg(feature = "test-util")]
    controls: VecDeque<(usize, crate::testing::Control)>,
    /// Suspended by a test: messages wait, signals are still taken.
    #[cfg(feature = "test-util")]
    suspended: bool,
}

impl<E> Default for Side<E> {
    fn default() -> Self {
        Side {
            events: VecDeque::new(),
            waiters: Waiters::default(),
            stop_reason: None,
            #[cfg(feature = "test-util")]
            controls: VecDeque::new(),
            #[cfg(feature = "test-util")]
            suspended: false,
        }
    }
}

#[repr(C)]
struct Slots<M, E> {
    // Read or written by senders for every message.
    msgs: VecDeque<M>,
    waker: Option<Waker>,
    received: u64,
    /// A stop was asked for (the first reason given, if any, is `Side::stop_reason`).
    stop: bool,
    kill: bool,
    /// No more messages are accepted (draining, stopping or ended).
    closed: bool,
    /// No more signals or events are accepted (ended).
    ended: bool,
    // Written rarely.
    side: Option<Box<Side<E>>>,
    /// Messages dropped undelivered (see `node::dead_letters`).
    dead_letters: u64,
    /// Published by the actor when it parks, yields or ends, so that counting costs
    /// nothing per message.
    handled: u64,
    /// Bounded mailboxes: messages the actor took in its last batch beyond the one in
    /// hand, still counted against the capacity until it comes back for more.
    in_flight: usize,
}

/// What an ended mailbox still held, to be dropped by the caller outside the lock.
pub(crate) type Leftovers<M, E> = (VecDeque<M>, Option<VecDeque<E>>);

impl<M, E> Slots<M, E> {
    /// Takes the highest-priority pending signal.
    fn take_signal(&mut self) -> Option<Signal<E>> {
        if self.kill {
            self.kill = false;
            Some(Signal::Kill)
        } else if mem::take(&mut self.stop) {
            let reason = self
                .side
                .as_mut()
                .and_then(|s| s.stop_reason.take())
                .map(String::from);
            Some(Signal::Stop(reason))
        } else {
            self.side
                .as_mut()
                .and_then(|s| s.events.pop_front())
                .map(Signal::Event)
        }
    }

    fn has_signal(&self) -> bool {
        self.kill || self.stop || self.side.as_ref().is_some_and(|s| !s.events.is_empty())
    }

    fn set_waker(&mut self, cx: &Context<'_>) {
        match &self.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => self.waker = Some(cx.waker().clone()),
        }
    }

    fn side(&mut self) -> &mut Side<E> {
        self.side.get_or_insert_with(Default::default)
    }

    /// Slots held for waiting senders.
    #[inline]
    fn held(&self) -> usize {
        self.side.as_ref().map_or(0, |s| s.waiters.held())
    }

    /// Room may have appeared in a `Wait` mailbox: grants it to waiting senders, or tells
    /// the waiting feeds.
    /// What counts against a bound: the queue, and what the actor took but has not
    /// reached yet.
    #[inline]
    fn occupied(&self) -> usize {
        self.msgs.len() + self.in_flight
    }

    fn on_room(&mut self, capacity: usize, wakes: &mut Wakes) {
        let len = self.occupied();
        if let Some(side) = self.side.as_mut().filter(|s| !s.waiters.is_idle()) {
            let free = capacity.saturating_sub(len + side.waiters.held());
            side.waiters.on_room(free, wakes);
        }
    }

    /// Closes the mailbox to messages; everyone waiting for room is woken to see it.
    fn close(&mut self) -> Wakes {
        self.closed = true;
        let mut wakes = Wakes::default();
        if let Some(side) = self.side.as_mut() {
            side.waiters.close(&mut wakes);
        }
        wakes
    }
}

impl<M, E> Mailbox<M, E> {
    pub(crate) fn new(config: MailboxConfig) -> Self {
        Mailbox {
            bound: config.capacity().map(|capacity| {
                Box::new(Bound {
                    capacity,
                    overflow: config.overflow(),
                    calls_wait: config.calls_wait(),
                    rejected: AtomicU64::new(0),
                    shed: AtomicU64::new(0),
                })
            }),
            slots: Mutex::new(Slots {
                msgs: VecDeque::new(),
                side: None,
                stop: false,
                kill: false,
                closed: false,
                ended: false,
                waker: None,
                received: 0,
                dead_letters: 0,
                in_flight: 0,
                handled: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots<M, E>> {
        // No user code runs under this lock, so poisoning cannot leave it inconsistent.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a message without waiting. A full bounded mailbox applies its policy.
    #[inline]
    pub(crate) fn push(&self, msg: M) -> Result<Pushed<M>, Refused<M>> {
        let mut slots = self.lock();
        let pushed = self.admit(&mut slots, msg, true);
        let waker = match pushed {
            // `DropNewest` shed the new message: nothing was queued.
            Ok(Pushed::Shed(_)) if self.sheds_newest() => None,
            Ok(_) => slots.waker.take(),
            Err(_) => None,
        };
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        pushed
    }

    /// Like [`push`](Self::push) for a message of another type `N` that becomes an `M` by
    /// `convert`: the checks come first, so a refusal hands back the `N` itself; the
    /// conversion runs under the lock only when the message will be queued (or shed by a
    /// `Drop*` policy, as `push` sheds).
    pub(crate) fn push_with<N>(
        &self,
        msg: N,
        convert: impl FnOnce(N) -> M,
    ) -> Result<Pushed<M>, Refused<N>> {
        let mut slots = self.lock();
        if slots.closed {
            return Err(Refused::Closed(msg));
        }
        if let Some(bound) = &self.bound {
            let refuses = matches!(bound.overflow, Overflow::Reject | Overflow::Wait);
            if refuses && slots.occupied() + slots.held() >= bound.capacity {
                bound.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(Refused::Full(msg));
            }
        }
        let pushed = match self.admit(&mut slots, convert(msg), true) {
            Ok(pushed) => pushed,
            // Not reached (checked above); were it, the message would be counted shed.
            Err(Refused::Closed(m) | Refused::Full(m)) => Pushed::Shed(Some(m)),
        };
        let waker = match &pushed {
            Pushed::Shed(_) if self.sheds_newest() => None,
            _ => slots.waker.take(),
        };
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(pushed)
    }

    /// Queues `msg` if the mailbox is open and has room (slots held for waiting senders
    /// count as taken), else applies the bound's policy. A refusal for lack of room is
    /// counted as a rejection only if `count_full` (a sender about to wait has not been
    /// refused). The caller wakes the actor.
    #[inline]
    fn admit(
        &self,
        slots: &mut Slots<M, E>,
        msg: M,
        count_full: bool,
    ) -> Result<Pushed<M>, Refused<M>> {
        if slots.closed {
            return Err(Refused::Closed(msg));
        }
        let mut shed = None;
        if let Some(bound) = &self.bound {
            if slots.occupied() + slots.held() >= bound.capacity {
                match bound.overflow {
                    Overflow::Reject | Overflow::Wait => {
                        if count_full {
                            bound.rejected.fetch_add(1, Ordering::Relaxed);
                        }
                        return Err(Refused::Full(msg));
                    }
                    Overflow::DropNewest => {
                        slots.received += 1;
                        bound.shed.fetch_add(1, Ordering::Relaxed);
                        return Ok(Pushed::Shed(Some(msg)));
                    }
                    Overflow::DropOldest => {
                        shed = slots.msgs.pop_front();
                        bound.shed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        slots.msgs.push_back(msg);
        slots.received += 1;
        Ok(match shed {
            None => Pushed::Queued,
            some => Pushed::Shed(some),
        })
    }

    fn sheds_newest(&self) -> bool {
        self.bound
            .as_ref()
            .is_some_and(|b| b.overflow == Overflow::DropNewest)
    }

    /// Queues a message the runtime sends the actor itself (a supervisor's restart timer):
    /// never refused for lack of room, so a full bounded mailbox cannot lose it. Only
    /// a closed mailbox refuses it.
    pub(crate) fn push_internal(&self, msg: M) -> Result<(), M> {
        let mut slots = self.lock();
        if slots.closed {
            return Err(msg);
        }
        slots.msgs.push_back(msg);
        slots.received += 1;
        let waker = slots.waker.take();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Counts `n` messages dropped undelivered.
    pub(crate) fn add_dead_letters(&self, n: u64) {
        self.lock().dead_letters += n;
    }

    /// Messages dropped undelivered so far.
    pub(crate) fn dead_letters(&self) -> u64 {
        self.lock().dead_letters
    }

    /// Whether a full mailbox sheds messages (`DropOldest` / `DropNewest`).
    pub(crate) fn sheds(&self) -> bool {
        self.bound
            .as_ref()
            .is_some_and(|b| matches!(b.overflow, Overflow::DropOldest | Overflow::DropNewest))
    }

    /// Whether a full mailbox makes senders wait (bounded with `Overflow::Wait`).
    #[inline]
    pub(crate) fn waits_for_room(&self) -> bool {
        self.bound
            .as_ref()
            .is_some_and(|b| b.overflow == Overflow::Wait)
    }

    /// Whether a `call` waits for room (a `Wait` mailbox that does not fail calls fast).
    #[inline]
    pub(crate) fn calls_wait_for_room(&self) -> bool {
        self.bound
            .as_ref()
            .is_some_and(|b| b.overflow == Overflow::Wait && b.calls_wait)
    }

    /// Queues a message, waiting for room in a full `Wait` mailbox until `deadline`
    /// (`None`: as long as it takes). Other policies behave as [`push`](Self::push).
    /// Waiting senders are served in arrival order; one that gives up (its deadline
    /// passes or its future is dropped) hands a slot held for it to the next.
    pub(crate) async fn push_wait(
        &self,
        msg: M,
        deadline: Option<Instant>,
    ) -> Result<Pushed<M>, Refused<M>> {
        if !self.waits_for_room() {
            return self.push(msg);
        }
        let mut waiter = SendWait {
            mailbox: self,
            msg: Some(msg),
            id: None,
        };
        // A waiting send spends the task's cooperative budget as tokio's bounded
        // `Sender::send` does: a producer and its actor handing slots back and forth on
        // one worker then end their run of turns by exhausting the budget (the worker
        // moves on quietly) rather than by tokio's cap on LIFO turns (which wakes an idle
        // worker to steal one of them, splitting the pair across threads).
        match deadline {
            None => {
                poll_fn(|cx| {
                    let budget = ready!(tokio::task::coop::poll_proceed(cx));
                    let done = ready!(waiter.poll_push(cx));
                    budget.made_progress();
                    Poll::Ready(done)
                })
                .await
            }
            Some(deadline) => {
                let mut expiry = pin!(tokio::time::sleep_until(deadline));
                poll_fn(|cx| {
                    let budget = ready!(tokio::task::coop::poll_proceed(cx));
                    // Pushed (or closed) wins over a deadline passing at the same time, so
                    // a slot held for this sender is never left behind.
                    if let Poll::Ready(done) = waiter.poll_push(cx) {
                        budget.made_progress();
                        return Poll::Ready(done);
                    }
                    match expiry.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Err(Refused::Full(waiter.give_up()))),
                        Poll::Pending => Poll::Pending,
                    }
                })
                .await
            }
        }
    }

    /// Waits until a `Wait` mailbox has room for a newcomer (or is closed); returns at once
    /// for any other mailbox. Takes no slot: a feed that then sends queues behind the
    /// senders already waiting.
    pub(crate) async fn room(&self) {
        let Some(capacity) = self
            .bound
            .as_ref()
            .filter(|b| b.overflow == Overflow::Wait)
            .map(|b| b.capacity)
        else {
            return;
        };
        let mut wait = RoomWait {
            mailbox: self,
            id: None,
        };
        poll_fn(|cx| wait.poll_room(capacity, cx)).await;
    }

    /// The actor's counts.
    pub(crate) fn stats(&self) -> MailboxStats {
        let slots = self.lock();
        let (received, handled, queued) = (slots.received, slots.handled, slots.occupied());
        drop(slots);
        let count = |c: fn(&Bound) -> &AtomicU64| {
            self.bound
                .as_ref()
                .map_or(0, |b| c(b).load(Ordering::Relaxed))
        };
        MailboxStats {
            received,
            handled,
            rejected: count(|b| &b.rejected),
            shed: count(|b| &b.shed),
            queued,
        }
    }

    /// Publishes the messages the actor handled since it last did, when it yields or
    /// ends (`poll_next` publishes whenever the actor takes mail), and starts a new
    /// count towards the next yield.
    pub(crate) fn publish_handled(&self, progress: &mut Progress) {
        progress.since_yield = 0;
        if progress.unpublished > 0 {
            self.lock().handled += u64::from(mem::take(&mut progress.unpublished));
        }
    }

    /// Closes the mailbox to new messages while letting the actor handle what is queued.
    /// Returns `false` if it was already closed.
    pub(crate) fn drain(&self) -> bool {
        let mut slots = self.lock();
        if slots.closed {
            return false;
        }
        let wakes = slots.close();
        let waker = slots.waker.take();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        wakes.wake();
        true
    }

    /// Whether a kill has been requested (and not yet taken).
    pub(crate) fn kill_pending(&self) -> bool {
        self.lock().kill
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
        let wakes = slots.close();
        let left = mem::take(&mut slots.msgs);
        drop(slots);
        wakes.wake();
        left
    }

    fn signal_with(&self, flag: &SignalFlag, f: impl FnOnce(&mut Slots<M, E>)) -> bool {
        let mut slots = self.lock();
        if slots.ended {
            return false;
        }
        f(&mut slots);
        flag.set(true);
        let waker = slots.waker.take();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Asks the actor to stop. The first reason given wins.
    pub(crate) fn ask_stop(&self, flag: &SignalFlag, reason: Option<String>) {
        self.signal_with(flag, |s| {
            if !s.stop {
                s.stop = true;
                if let Some(reason) = reason {
                    s.side().stop_reason = Some(reason.into_boxed_str());
                }
            }
        });
    }

    /// Asks the actor to abort.
    pub(crate) fn ask_kill(&self, flag: &SignalFlag) {
        self.signal_with(flag, |s| s.kill = true);
    }

    /// Queues an event on the event lane, or hands it back if the mailbox has ended.
    pub(crate) fn deliver_event(&self, flag: &SignalFlag, evt: E) -> Result<(), E> {
        let mut slots = self.lock();
        if slots.ended {
            return Err(evt);
        }
        slots.side().events.push_back(evt);
        flag.set(true);
        let waker = slots.waker.take();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Takes the highest-priority pending signal.
    pub(crate) fn take_signal(&self, flag: &SignalFlag) -> Option<Signal<E>> {
        let mut slots = self.lock();
        let sig = slots.take_signal();
        if !slots.has_signal() {
            flag.set(false);
        }
        sig
    }

    /// Waits for work: a signal, or messages (moved into `batch`, which must be empty).
    /// Publishes the handled count on every call (the lock is taken anyway: once per
    /// batch, or per message for `DropOldest`); a park also counts as the yield the actor
    /// owes.
    pub(crate) fn poll_next(
        &self,
        flag: &SignalFlag,
        batch: &mut VecDeque<M>,
        progress: &mut Progress,
        cx: &Context<'_>,
    ) -> Poll<Next<E>> {
        let mut slots = self.lock();
        slots.handled += u64::from(mem::take(&mut progress.unpublished));
        let next = self.take_next(&mut slots, flag, batch);
        if next.is_ready() {
            return next;
        }
        if slots.closed && slots.msgs.is_empty() {
            return Poll::Ready(Next::Drained);
        }
        // Parking gives the thread back: the count towards the next yield starts again.
        progress.since_yield = 0;
        slots.set_waker(cx);
        if slots.in_flight > 0 {
            // Back from a bounded batch with nothing more to take: its slots are free.
            self.release_batch(slots);
        }
        Poll::Pending
    }

    /// The actor is done with its bounded batch: the messages it still counted are
    /// handled, and their slots go to waiting senders (woken once the lock is released).
    #[cold]
    #[inline(never)]
    fn release_batch(&self, mut slots: MutexGuard<'_, Slots<M, E>>) {
        slots.in_flight = 0;
        let mut wakes = Wakes::default();
        if let Some(bound) = self.bound.as_ref().filter(|b| b.overflow == Overflow::Wait) {
            slots.on_room(bound.capacity, &mut wakes);
        }
        drop(slots);
        wakes.wake();
    }

    /// A signal, a test's request, or messages moved into `batch`; pending if none.
    #[inline(always)]
    fn take_next(
        &self,
        slots: &mut MutexGuard<'_, Slots<M, E>>,
        flag: &SignalFlag,
        batch: &mut VecDeque<M>,
    ) -> Poll<Next<E>> {
        if slots.has_signal() {
            let sig = slots.take_signal();
            if !slots.has_signal() {
                flag.set(false);
            }
            if let Some(sig) = sig {
                return Poll::Ready(Next::Signal(sig));
            }
        }
        #[cfg(feature = "test-util")]
        let limit = match slots.due_control() {
            control::Due::Now(control) => {
                return Poll::Ready(Next::Signal(Signal::Control(control)));
            }
            control::Due::After(limit) => limit,
        };
        #[cfg(not(feature = "test-util"))]
        let limit = usize::MAX;
        if !slots.msgs.is_empty() && limit > 0 {
            debug_assert!(batch.is_empty());
            match &self.bound {
                // Unbounded: take everything at once; the lock is not touched again
                // until the batch is done.
                None if limit >= slots.msgs.len() => mem::swap(batch, &mut slots.msgs),
                // Up to a test's request (`testing`).
                None => batch.extend(slots.msgs.drain(..limit)),
                // Bounded, except `DropOldest`: everything at once too, but all except the
                // message in hand still count against the capacity until the actor is back
                // for more, so the bound stays exact with one lock per batch.
                Some(bound)
                    if bound.overflow != Overflow::DropOldest && limit >= slots.msgs.len() =>
                {
                    // The previous batch is handled: only this one counts from here on.
                    mem::swap(batch, &mut slots.msgs);
                    slots.in_flight = batch.len() - 1;
                    if bound.overflow == Overflow::Wait {
                        let mut wakes = Wakes::default();
                        slots.on_room(bound.capacity, &mut wakes);
                        // Woken under the lock: rare (a sender was waiting for exactly
                        // this slot), and the sender takes the lock only after we drop it.
                        wakes.wake();
                    }
                }
                // `DropOldest` (the oldest must still be in the queue to be dropped), or
                // up to a test's request: one at a time.
                Some(bound) => {
                    slots.in_flight = 0; // a previous batch (see above) is handled
                    batch.extend(slots.msgs.pop_front());
                    // The slot it freed goes to the first waiting sender, if any.
                    if bound.overflow == Overflow::Wait {
                        let mut wakes = Wakes::default();
                        slots.on_room(bound.capacity, &mut wakes);
                        wakes.wake();
                    }
                }
            }
            #[cfg(feature = "test-util")]
            slots.taken(batch.len());
            return Poll::Ready(Next::Messages);
        }
        Poll::Pending
    }

    /// Marks the mailbox as ended: no more messages, signals or events are accepted.
    /// Returns what was still queued, to be dropped by the caller outside the lock.
    pub(crate) fn end(&self, flag: &SignalFlag) -> Leftovers<M, E> {
        let mut slots = self.lock();
        let wakes = slots.close();
        slots.ended = true;
        slots.in_flight = 0;
        slots.kill = false;
        slots.stop = false;
        slots.waker = None;
        flag.set(false);
        let events = slots.side.as_mut().map(|s| {
            s.stop_reason = None;
            mem::take(&mut s.events)
        });
        let left = (mem::take(&mut slots.msgs), events);
        drop(slots);
        wakes.wake();
        left
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    type Box32 = Mailbox<u32, ()>;

    /// `LeastLoaded` pools read `received - handled`; a bounded worker that never runs
    /// out of mail must still publish its count each time it takes mail. A bounded
    /// mailbox hands over its whole queue, and what is beyond the message in hand still
    /// counts against the bound (`queued`) until the actor is back for more.
    #[test]
    fn taking_mail_publishes_the_handled_count_even_without_parking() {
        let flag = SignalFlag::new();
        let mailbox = Box32::new(MailboxConfig::bounded(4, Overflow::Wait));
        for i in 0..3 {
            assert!(mailbox.push(i).is_ok());
        }
        let mut batch = VecDeque::new();
        let mut progress = Progress::default();
        for _ in 0..5 {
            progress.handled();
        }
        let cx = Context::from_waker(Waker::noop());
        let next = mailbox.poll_next(&flag, &mut batch, &mut progress, &cx);
        assert!(matches!(next, Poll::Ready(Next::Messages)));
        assert_eq!(batch.len(), 3);
        assert_eq!(mailbox.stats().handled, 5);
        assert_eq!(mailbox.stats().queued, 2, "taken beyond the one in hand");
        // Capacity 4: two in flight, room for two more.
        assert!(matches!(mailbox.push(9), Ok(Pushed::Queued)));
        assert!(matches!(mailbox.push(10), Ok(Pushed::Queued)));
        assert!(
            matches!(mailbox.push(11), Err(Refused::Full(11))),
            "the bound holds"
        );
        // Back for more: the batch was handled, its slots free again.
        batch.clear();
        let next = mailbox.poll_next(&flag, &mut batch, &mut progress, &cx);
        assert!(matches!(next, Poll::Ready(Next::Messages)));
        assert_eq!(batch.len(), 2);
        assert_eq!(mailbox.stats().queued, 1);
        // Taking mail is not a yield: the count towards the next one goes on.
        assert_eq!(progress.since_yield, 5);
    }

    #[test]
    fn internal_messages_pass_a_full_bound_but_not_a_closed_mailbox() {
        let mailbox = Box32::new(MailboxConfig::bounded(1, Overflow::Reject));
        assert!(matches!(mailbox.push(1), Ok(Pushed::Queued)));
        assert!(matches!(mailbox.push(2), Err(Refused::Full(2))));
        assert_eq!(mailbox.push_internal(3), Ok(()));
        let stats = mailbox.stats();
        assert_eq!((stats.received, stats.rejected, stats.queued), (2, 1, 2));
        let left = mailbox.close();
        assert_eq!(left, [1, 3]);
        assert_eq!(mailbox.push_internal(4), Err(4));
    }

    /// An event delivered to an ended mailbox comes back to the sender.
    #[test]
    fn an_ended_mailbox_hands_events_back() {
        let flag = SignalFlag::new();
        let mailbox = Mailbox::<u32, &str>::new(MailboxConfig::default());
        assert_eq!(mailbox.deliver_event(&flag, "first"), Ok(()));
        assert!(flag.is_set());
        let (msgs, events) = mailbox.end(&flag);
        assert!(msgs.is_empty());
        assert_eq!(events.unwrap(), ["first"]);
        assert!(!flag.is_set());
        assert_eq!(mailbox.deliver_event(&flag, "late"), Err("late"));
    }
}
