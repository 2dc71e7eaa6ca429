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
use std::fmt;
use std::mem;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::SupervisionEvent;
use crate::cell::Shared;

/// What a bounded mailbox does with a message that arrives when it is full.
///
/// Whatever the policy, signals (kill, stop, supervision events) are never blocked or
/// shed, and every shed message is counted as a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overflow {
    /// `cast` returns [`SendError::Full`](crate::SendError::Full) with the message.
    #[default]
    Reject,
    /// [`ActorRef::send`](crate::ActorRef::send) (and `call`) waits for room; `cast` and
    /// `try_send` return `Full` without waiting. Waiting senders are served in turn: a slot
    /// freed while some wait is held for them.
    Wait,
    /// The oldest queued message is shed to make room for the new one.
    DropOldest,
    /// The new message is shed; `cast` still returns `Ok(())` (it was accepted and shed).
    DropNewest,
}

/// A mailbox's size and overflow policy, given at spawn.
///
/// Unbounded is the default: `cast` never fails for lack of room.
///
/// ```
/// use ensemble::{MailboxConfig, Overflow};
/// let config = MailboxConfig::bounded(64, Overflow::Wait);
/// assert_eq!(config.capacity(), Some(64));
/// assert_eq!(MailboxConfig::default().capacity(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailboxConfig {
    capacity: Option<usize>,
    overflow: Overflow,
}

impl MailboxConfig {
    /// No bound (the default).
    pub const fn unbounded() -> Self {
        MailboxConfig {
            capacity: None,
            overflow: Overflow::Reject,
        }
    }

    /// At most `capacity` messages waiting (at least 1), with `overflow` deciding what
    /// happens to one more. The message being handled does not count.
    pub const fn bounded(capacity: usize, overflow: Overflow) -> Self {
        MailboxConfig {
            capacity: Some(if capacity == 0 { 1 } else { capacity }),
            overflow,
        }
    }

    /// The bound, if any.
    pub const fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    /// The overflow policy (meaningful only with a bound).
    pub const fn overflow(&self) -> Overflow {
        self.overflow
    }
}

/// One actor's message counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MailboxStats {
    /// Messages accepted into the mailbox.
    pub received: u64,
    /// Messages whose handler has returned. Published by the actor when it waits for
    /// mail, yields (every 128 messages) or ends: a busy actor's count lags by less
    /// than 128; an idle actor's is exact.
    pub handled: u64,
    /// Messages refused because the mailbox was full (`SendError::Full`).
    pub rejected: u64,
    /// Messages accepted and then shed by `DropOldest` / `DropNewest`.
    pub shed: u64,
    /// Messages waiting now.
    pub queued: usize,
}

impl fmt::Display for MailboxStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "received {} handled {} rejected {} shed {} queued {}",
            self.received, self.handled, self.rejected, self.shed, self.queued
        )
    }
}

/// The bounded part of a mailbox; allocated only for bounded actors.
struct Bound {
    capacity: usize,
    overflow: Overflow,
    /// Wakes senders waiting for room (`Overflow::Wait`).
    room: Notify,
    rejected: AtomicU64,
    shed: AtomicU64,
    /// Senders waiting for room (`Wait`). Changed only under the mailbox lock.
    waiting: AtomicUsize,
    /// Slots freed while senders were waiting, held for them, so that a sender arriving
    /// later cannot take them first. Changed only under the mailbox lock; never more
    /// than `waiting`.
    reserved: AtomicUsize,
}

/// A sender registered as waiting for room in a `Wait` mailbox. Dropping it (pushed,
/// closed, timed out or cancelled) unregisters it and gives back a held slot nobody is
/// left to take.
struct Waiting<'a, M> {
    mailbox: &'a Mailbox<M>,
    bound: &'a Bound,
    /// It got its message in (no wake-up of its is left to hand on).
    pushed: bool,
}

impl<'a, M> Waiting<'a, M> {
    fn new(mailbox: &'a Mailbox<M>, bound: &'a Bound) -> Self {
        let slots = mailbox.lock();
        bound.waiting.fetch_add(1, Ordering::Relaxed);
        drop(slots);
        Waiting {
            mailbox,
            bound,
            pushed: false,
        }
    }
}

impl<M> Drop for Waiting<'_, M> {
    fn drop(&mut self) {
        let slots = self.mailbox.lock();
        let waiting = self.bound.waiting.load(Ordering::Relaxed) - 1;
        self.bound.waiting.store(waiting, Ordering::Relaxed);
        let held = self.bound.reserved.load(Ordering::Relaxed);
        let reserved = held.min(waiting);
        self.bound.reserved.store(reserved, Ordering::Relaxed);
        drop(slots);
        // A slot was let go (anyone may now take it), or one is still held for the others
        // and this sender, leaving without its message in, may have swallowed the wake-up
        // meant for them: wake the next one.
        if reserved < held || (reserved > 0 && !self.pushed) {
            self.bound.room.notify_one();
        }
    }
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

/// The typed part of an actor's shared block.
///
/// `repr(C)`, hot first: what a sender touches for every message (`bound`, the lock, the
/// queue, the waker, `received`, the flags) comes first; what changes rarely comes last,
/// so that the block's tail, which may share a cache line with the next allocation (often
/// another actor's reference counts), is cold. The flag the actor reads between messages
/// (`Header::signaled`) lives at the other end of the block.
#[repr(C)]
pub(crate) struct Mailbox<M> {
    bound: Option<Box<Bound>>,
    slots: Mutex<Slots<M>>,
}

/// Boxed on purpose: 8 bytes in every actor instead of 32, allocated on the first event.
#[allow(clippy::box_collection)]
type Events = Option<Box<VecDeque<SupervisionEvent>>>;

#[repr(C)]
struct Slots<M> {
    // Read or written by senders for every message.
    msgs: VecDeque<M>,
    waker: Option<Waker>,
    received: u64,
    /// A stop was asked for (the first reason given, if any, is `stop_reason`).
    stop: bool,
    kill: bool,
    /// No more messages are accepted (draining, stopping or ended).
    closed: bool,
    /// No more signals or events are accepted (ended).
    ended: bool,
    // Written rarely.
    /// Supervision events; allocated on the first one (most actors never get any).
    events: Events,
    stop_reason: Option<Box<str>>,
    /// Messages dropped undelivered (see `node::dead_letters`).
    dead_letters: u64,
    /// Published by the actor when it parks, yields or ends, so that counting costs
    /// nothing per message.
    handled: u64,
}

impl<M> Slots<M> {
    /// Takes the highest-priority pending signal.
    fn take_signal(&mut self) -> Option<Signal> {
        if self.kill {
            self.kill = false;
            Some(Signal::Kill)
        } else if mem::take(&mut self.stop) {
            let reason = self.stop_reason.take().map(String::from);
            Some(Signal::Stop(reason))
        } else {
            self.events
                .as_mut()
                .and_then(|e| e.pop_front())
                .map(Signal::Event)
        }
    }

    fn has_signal(&self) -> bool {
        self.kill || self.stop || self.events.as_ref().is_some_and(|e| !e.is_empty())
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
    pub(crate) fn new(config: MailboxConfig) -> Self {
        Mailbox {
            bound: config.capacity.map(|capacity| {
                Box::new(Bound {
                    capacity,
                    overflow: config.overflow,
                    room: Notify::new(),
                    rejected: AtomicU64::new(0),
                    shed: AtomicU64::new(0),
                    waiting: AtomicUsize::new(0),
                    reserved: AtomicUsize::new(0),
                })
            }),
            slots: Mutex::new(Slots {
                msgs: VecDeque::new(),
                events: None,
                stop: false,
                stop_reason: None,
                kill: false,
                closed: false,
                ended: false,
                waker: None,
                received: 0,
                dead_letters: 0,
                handled: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots<M>> {
        // No user code runs under this lock, so poisoning cannot leave it inconsistent.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a message without waiting. A full bounded mailbox applies its policy.
    #[inline]
    pub(crate) fn push(&self, msg: M) -> Result<Pushed<M>, Refused<M>> {
        self.push_counted(msg, true, false)
    }

    /// [`push`](Self::push); a refusal for lack of room is counted as a rejection only
    /// if `count_full` (a sender about to wait for room has not been refused). Slots held
    /// for waiting senders count as taken, unless `woken` (a waiting sender that was
    /// woken takes one of them).
    fn push_counted(&self, msg: M, count_full: bool, woken: bool) -> Result<Pushed<M>, Refused<M>> {
        let mut slots = self.lock();
        if slots.closed {
            return Err(Refused::Closed(msg));
        }
        let mut shed = None;
        if let Some(bound) = &self.bound {
            let reserved = bound.reserved.load(Ordering::Relaxed);
            if woken && reserved > 0 {
                bound.reserved.store(reserved - 1, Ordering::Relaxed);
            } else if slots.msgs.len() + reserved >= bound.capacity {
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
                        drop(slots);
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
        let waker = slots.take_waker();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(match shed {
            None => Pushed::Queued,
            some => Pushed::Shed(some),
        })
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
        let waker = slots.take_waker();
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

    /// Queues a message, waiting for room in a full `Wait` mailbox until `deadline`.
    /// Other policies behave as [`push`](Self::push).
    pub(crate) async fn push_wait(
        &self,
        mut msg: M,
        deadline: Option<Instant>,
    ) -> Result<Pushed<M>, Refused<M>> {
        let Some(bound) = self.bound.as_ref().filter(|b| b.overflow == Overflow::Wait) else {
            return self.push(msg);
        };
        // Room now: no waiter is registered, so an unhindered send costs one lock.
        match self.push_counted(msg, false, false) {
            Err(Refused::Full(m)) => msg = m,
            done => return done,
        }
        // Waiting senders get freed slots in turn: while one waits, a slot the actor frees
        // is held for it (see `poll_next`), and later senders find the mailbox full.
        let mut waiting = Waiting::new(self, bound);
        let mut woken = false;
        loop {
            let mut room = pin!(bound.room.notified());
            room.as_mut().enable();
            // Tried again once registered, so a slot freed in between is not missed.
            match self.push_counted(msg, false, woken) {
                Err(Refused::Full(m)) => msg = m,
                done => {
                    waiting.pushed = done.is_ok();
                    return done;
                }
            }
            match deadline {
                None => room.await,
                Some(d) => {
                    if tokio::time::timeout_at(d, room).await.is_err() {
                        bound.rejected.fetch_add(1, Ordering::Relaxed);
                        return Err(Refused::Full(msg));
                    }
                }
            }
            woken = true;
        }
    }

    /// Waits until a `Wait` mailbox has room (or is closed); returns at once for any
    /// other mailbox.
    pub(crate) async fn room(&self) {
        let Some(bound) = self.bound.as_ref().filter(|b| b.overflow == Overflow::Wait) else {
            return;
        };
        loop {
            let mut room = pin!(bound.room.notified());
            room.as_mut().enable();
            {
                let slots = self.lock();
                // Slots held for waiting senders count as room here: the feed's own send
                // queues behind those senders anyway.
                let room_now = slots.closed || slots.msgs.len() < bound.capacity;
                let held = bound.reserved.load(Ordering::Relaxed) > 0;
                drop(slots);
                // This waiter takes no slot itself: hand the wake-up on, so that a sender
                // waiting alongside is not left asleep next to a free or held slot.
                if room_now || held {
                    bound.room.notify_one();
                }
                if room_now {
                    return;
                }
            }
            room.await;
        }
    }

    /// The actor's counts.
    pub(crate) fn stats(&self) -> MailboxStats {
        let slots = self.lock();
        MailboxStats {
            received: slots.received,
            handled: slots.handled,
            rejected: self
                .bound
                .as_ref()
                .map_or(0, |b| b.rejected.load(Ordering::Relaxed)),
            shed: self
                .bound
                .as_ref()
                .map_or(0, |b| b.shed.load(Ordering::Relaxed)),
            queued: slots.msgs.len(),
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
        slots.closed = true;
        let waker = slots.take_waker();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        self.wake_waiting_senders();
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
        slots.closed = true;
        let left = mem::take(&mut slots.msgs);
        drop(slots);
        self.wake_waiting_senders();
        left
    }

    /// Senders waiting for room find the mailbox closed.
    fn wake_waiting_senders(&self) {
        if let Some(bound) = &self.bound {
            bound.room.notify_waiters();
        }
    }
}

/// Signals: they need both the mailbox lock and the header's `signaled` flag.
impl<M> Shared<M> {
    fn signal_with(&self, f: impl FnOnce(&mut Slots<M>) -> bool) -> bool {
        let mut slots = self.mailbox.lock();
        if slots.ended || !f(&mut slots) {
            return false;
        }
        self.header.signaled.store(true, Ordering::Release);
        let waker = slots.take_waker();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Asks the actor to stop. The first reason given wins.
    pub(crate) fn ask_stop(&self, reason: Option<String>) {
        self.signal_with(|s| {
            if !s.stop {
                s.stop = true;
                s.stop_reason = reason.map(String::into_boxed_str);
            }
            true
        });
    }

    /// Asks the actor to abort.
    pub(crate) fn ask_kill(&self) {
        self.signal_with(|s| {
            s.kill = true;
            true
        });
    }

    /// Delivers a supervision event, or hands it back if the actor has ended.
    pub(crate) fn deliver_event(&self, evt: SupervisionEvent) -> Result<(), SupervisionEvent> {
        let mut slots = self.mailbox.lock();
        if slots.ended {
            return Err(evt);
        }
        slots
            .events
            .get_or_insert_with(Default::default)
            .push_back(evt);
        self.header.signaled.store(true, Ordering::Release);
        let waker = slots.take_waker();
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// The fast check made between messages.
    #[inline]
    pub(crate) fn signaled(&self) -> bool {
        self.header.signaled.load(Ordering::Acquire)
    }

    /// Takes the highest-priority pending signal.
    pub(crate) fn take_signal(&self) -> Option<Signal> {
        let mut slots = self.mailbox.lock();
        let sig = slots.take_signal();
        if !slots.has_signal() {
            self.header.signaled.store(false, Ordering::Release);
        }
        sig
    }

    /// Waits for work: a signal, or messages (moved into `batch`, which must be empty).
    /// Publishes the handled count on every call (the lock is taken anyway, and a bounded
    /// mailbox calls this for every message, which keeps `LeastLoaded` pools exact); a
    /// park also counts as the yield the actor owes.
    pub(crate) fn poll_next(
        &self,
        batch: &mut VecDeque<M>,
        progress: &mut Progress,
        cx: &Context<'_>,
    ) -> Poll<Next> {
        let mut slots = self.mailbox.lock();
        slots.handled += u64::from(mem::take(&mut progress.unpublished));
        if slots.has_signal() {
            let sig = slots.take_signal();
            if !slots.has_signal() {
                self.header.signaled.store(false, Ordering::Release);
            }
            if let Some(sig) = sig {
                return Poll::Ready(Next::Signal(sig));
            }
        }
        if !slots.msgs.is_empty() {
            debug_assert!(batch.is_empty());
            match &self.mailbox.bound {
                // Unbounded: take everything at once; the lock is not touched again
                // until the batch is done.
                None => mem::swap(batch, &mut slots.msgs),
                // Bounded: one at a time, so the bound and `DropOldest` are exact.
                Some(bound) => {
                    batch.extend(slots.msgs.pop_front());
                    // A sender is waiting and a slot is free: it is held for that sender.
                    let reserved = bound.reserved.load(Ordering::Relaxed);
                    if bound.waiting.load(Ordering::Relaxed) > reserved
                        && slots.msgs.len() + reserved < bound.capacity
                    {
                        bound.reserved.store(reserved + 1, Ordering::Relaxed);
                    }
                    drop(slots);
                    if bound.overflow == Overflow::Wait {
                        bound.room.notify_one();
                    }
                }
            }
            return Poll::Ready(Next::Messages);
        }
        if slots.closed {
            return Poll::Ready(Next::Drained);
        }
        // Parking gives the thread back: the count towards the next yield starts again.
        progress.since_yield = 0;
        slots.set_waker(cx);
        Poll::Pending
    }

    /// Marks the actor as ended: no more messages, signals or events are accepted.
    /// Returns what was still queued, to be dropped by the caller outside the lock.
    pub(crate) fn end(&self) -> (VecDeque<M>, Events) {
        let mut slots = self.mailbox.lock();
        slots.closed = true;
        slots.ended = true;
        slots.kill = false;
        slots.stop = false;
        slots.stop_reason = None;
        slots.waker = None;
        self.header.signaled.store(false, Ordering::Release);
        let left = (mem::take(&mut slots.msgs), slots.events.take());
        drop(slots);
        self.mailbox.wake_waiting_senders();
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ActorId;
    use crate::cell::Header;

    /// `LeastLoaded` pools read `received - handled`; a bounded worker that never runs
    /// out of mail must still publish its count each time it takes a message.
    #[test]
    fn taking_mail_publishes_the_handled_count_even_without_parking() {
        let shared = Shared {
            header: Header::new(ActorId::next_local(), None),
            mailbox: Mailbox::<u32>::new(MailboxConfig::bounded(4, Overflow::Wait)),
        };
        for i in 0..3 {
            assert!(shared.mailbox.push(i).is_ok());
        }
        let mut batch = VecDeque::new();
        let mut progress = Progress::default();
        for _ in 0..5 {
            progress.handled();
        }
        let cx = Context::from_waker(Waker::noop());
        let next = shared.poll_next(&mut batch, &mut progress, &cx);
        assert!(matches!(next, Poll::Ready(Next::Messages)));
        assert_eq!(batch.len(), 1);
        assert_eq!(shared.mailbox.stats().handled, 5);
        // Taking mail is not a yield: the count towards the next one goes on.
        assert_eq!(progress.since_yield, 5);
    }

    #[test]
    fn internal_messages_pass_a_full_bound_but_not_a_closed_mailbox() {
        let mailbox = Mailbox::<u32>::new(MailboxConfig::bounded(1, Overflow::Reject));
        assert!(matches!(mailbox.push(1), Ok(Pushed::Queued)));
        assert!(matches!(mailbox.push(2), Err(Refused::Full(2))));
        assert_eq!(mailbox.push_internal(3), Ok(()));
        let stats = mailbox.stats();
        assert_eq!((stats.received, stats.rejected, stats.queued), (2, 1, 2));
        let left = mailbox.close();
        assert_eq!(left, [1, 3]);
        assert_eq!(mailbox.push_internal(4), Err(4));
    }
}
