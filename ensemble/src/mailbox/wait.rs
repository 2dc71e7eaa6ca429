//! Senders waiting for room in a full `Overflow::Wait` mailbox, and stream feeds waiting
//! to hear that there is room.
//!
//! Everything here is changed under the mailbox lock, so the queue, the slots held for
//! waiting senders and the mailbox contents are one consistent state: no wake-up can fall
//! between a check and a registration.
//!
//! The rule that makes waiting fair: a slot the actor frees while senders wait is
//! *granted* to the first sender in line (held for it, so that a sender arriving later
//! finds the mailbox full). A sender that leaves holding a grant hands it to the next one
//! in line, or frees the slot if nobody is left. Hence the invariant the model checks
//! (`mailbox::model`) rely on: a sender waits without a grant only while the mailbox is
//! full, counting held slots as taken.

use std::collections::VecDeque;
use std::mem;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use super::{Mailbox, Pushed, Refused};

/// One waiting sender.
struct Sender {
    id: u64,
    waker: Waker,
    /// A slot is held for it: its next poll queues its message.
    granted: bool,
}

/// The waiting senders, in arrival order, and the feeds waiting for room.
#[derive(Default)]
pub(super) struct Waiters {
    senders: VecDeque<Sender>,
    /// Stream feeds waiting for room (they take no slot themselves).
    rooms: Vec<(u64, Waker)>,
    next_id: u64,
    /// Slots held for senders with `granted` set.
    granted: usize,
}

/// What a registered sender finds when it is polled again.
pub(super) enum Claim {
    /// A slot is held for it: it has left the queue and may queue its message.
    Granted,
    /// Still waiting (its waker is updated).
    Waiting,
    /// It is no longer in the queue: the mailbox was closed and the queue emptied.
    Gone,
}

/// Wakers to call once the mailbox lock is released.
#[derive(Default)]
#[must_use = "wake them after releasing the lock"]
pub(super) struct Wakes {
    sender: Option<Waker>,
    others: Vec<Waker>,
}

impl Wakes {
    pub(super) fn wake(self) {
        if let Some(w) = self.sender {
            w.wake();
        }
        for w in self.others {
            w.wake();
        }
    }
}

impl Waiters {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Slots held for waiting senders.
    #[inline]
    pub(super) fn held(&self) -> usize {
        self.granted
    }

    /// Whether any sender or feed is waiting.
    #[inline]
    pub(super) fn is_idle(&self) -> bool {
        self.senders.is_empty() && self.rooms.is_empty()
    }

    /// Puts a sender at the end of the line.
    pub(super) fn add_sender(&mut self, waker: &Waker) -> u64 {
        let id = self.next_id();
        self.senders.push_back(Sender {
            id,
            waker: waker.clone(),
            granted: false,
        });
        id
    }

    /// Registers a feed waiting for room.
    pub(super) fn add_room(&mut self, waker: &Waker) -> u64 {
        let id = self.next_id();
        self.rooms.push((id, waker.clone()));
        id
    }

    /// A registered sender polled again.
    pub(super) fn claim(&mut self, id: u64, waker: &Waker) -> Claim {
        let Some(i) = self.senders.iter().position(|s| s.id == id) else {
            return Claim::Gone;
        };
        if self.senders[i].granted {
            self.senders.remove(i);
            self.granted -= 1;
            return Claim::Granted;
        }
        let sender = &mut self.senders[i];
        if !sender.waker.will_wake(waker) {
            sender.waker = waker.clone();
        }
        Claim::Waiting
    }

    /// A sender leaves the line without queueing (it gave up, or found the mailbox
    /// closed). Returns whether it left a held slot behind, which the caller must pass on
    /// with [`on_room`](Self::on_room).
    pub(super) fn remove_sender(&mut self, id: u64) -> bool {
        let Some(i) = self.senders.iter().position(|s| s.id == id) else {
            return false;
        };
        let held = self.senders.remove(i).is_some_and(|s| s.granted);
        if held {
            self.granted -= 1;
        }
        held
    }

    /// A feed stops waiting (it was dropped).
    pub(super) fn remove_room(&mut self, id: u64) {
        self.rooms.retain(|(r, _)| *r != id);
    }

    /// Whether the feed `id` is still registered (not woken yet); if so, keeps `waker`
    /// as the one to wake.
    pub(super) fn still_waiting_for_room(&mut self, id: u64, waker: &Waker) -> bool {
        match self.rooms.iter_mut().find(|(r, _)| *r == id) {
            Some((_, w)) => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    /// `free` slots are neither queued nor held: grant them to the first senders in line
    /// without a grant, and if room is left for a newcomer, wake every waiting feed.
    pub(super) fn on_room(&mut self, mut free: usize, wakes: &mut Wakes) {
        for sender in self.senders.iter_mut().filter(|s| !s.granted) {
            if free == 0 {
                break;
            }
            sender.granted = true;
            self.granted += 1;
            free -= 1;
            let waker = sender.waker.clone();
            match wakes.sender {
                None => wakes.sender = Some(waker),
                Some(_) => wakes.others.push(waker),
            }
        }
        if free > 0 && !self.rooms.is_empty() {
            wakes
                .others
                .extend(mem::take(&mut self.rooms).into_iter().map(|(_, w)| w));
        }
    }

    /// The mailbox closed: everyone leaves the queue and is woken to find it closed.
    pub(super) fn close(&mut self, wakes: &mut Wakes) {
        self.granted = 0;
        wakes
            .others
            .extend(mem::take(&mut self.senders).into_iter().map(|s| s.waker));
        wakes
            .others
            .extend(mem::take(&mut self.rooms).into_iter().map(|(_, w)| w));
    }
}

/// A sender waiting for room in a `Wait` mailbox. Dropped while still in line (its
/// deadline passed or its future was cancelled), it leaves, handing a slot held for it
/// to the next sender.
pub(super) struct SendWait<'a, M, E> {
    pub(super) mailbox: &'a Mailbox<M, E>,
    /// The message, until it is queued or handed back.
    pub(super) msg: Option<M>,
    /// Its place in line, once it had to wait.
    pub(super) id: Option<u64>,
}

impl<M, E> SendWait<'_, M, E> {
    pub(super) fn poll_push(&mut self, cx: &Context<'_>) -> Poll<Result<Pushed<M>, Refused<M>>> {
        let mailbox = self.mailbox;
        let mut slots = mailbox.lock();
        let Some(msg) = self.msg.take() else {
            return Poll::Pending; // already done; not polled again
        };
        let outcome = match self.id {
            // First try: room now means no waiter is ever registered.
            None => match mailbox.admit(&mut slots, msg, false) {
                Err(Refused::Full(msg)) => {
                    self.msg = Some(msg);
                    self.id = Some(slots.side().waiters.add_sender(cx.waker()));
                    return Poll::Pending;
                }
                done => done,
            },
            Some(id) => {
                if slots.closed {
                    self.id = None;
                    return Poll::Ready(Err(Refused::Closed(msg)));
                }
                match slots.side().waiters.claim(id, cx.waker()) {
                    Claim::Waiting => {
                        self.msg = Some(msg);
                        return Poll::Pending;
                    }
                    Claim::Gone => {
                        // Only a close empties the line; it is checked above.
                        self.id = None;
                        return Poll::Ready(Err(Refused::Closed(msg)));
                    }
                    Claim::Granted => {
                        self.id = None;
                        // The slot was held for this message: it goes in past the check.
                        slots.msgs.push_back(msg);
                        slots.received += 1;
                        Ok(Pushed::Queued)
                    }
                }
            }
        };
        let waker = match outcome {
            Ok(_) => slots.waker.take(),
            Err(_) => None,
        };
        drop(slots);
        if let Some(w) = waker {
            w.wake();
        }
        Poll::Ready(outcome)
    }

    /// Leaves the line (the deadline passed) and takes the message back; counted as
    /// rejected. Called only after `poll_push` returned `Pending`, which always leaves
    /// the message in place.
    #[allow(clippy::expect_used)] // see above: the message is there
    pub(super) fn give_up(&mut self) -> M {
        self.leave();
        if let Some(bound) = &self.mailbox.bound {
            bound.rejected.fetch_add(1, Ordering::Relaxed);
        }
        self.msg.take().expect("a pending sender keeps its message")
    }

    /// Leaves the line, handing a slot held for this sender on.
    fn leave(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        let mut slots = self.mailbox.lock();
        let mut wakes = Wakes::default();
        let Some(bound) = &self.mailbox.bound else {
            return;
        };
        let held = slots.side().waiters.remove_sender(id);
        if held && !slots.closed {
            slots.on_room(bound.capacity, &mut wakes);
        }
        drop(slots);
        wakes.wake();
    }
}

impl<M, E> Drop for SendWait<'_, M, E> {
    fn drop(&mut self) {
        self.leave();
    }
}

/// A feed waiting for room in a `Wait` mailbox (see [`Mailbox::room`]).
pub(super) struct RoomWait<'a, M, E> {
    pub(super) mailbox: &'a Mailbox<M, E>,
    pub(super) id: Option<u64>,
}

impl<M, E> RoomWait<'_, M, E> {
    pub(super) fn poll_room(&mut self, capacity: usize, cx: &Context<'_>) -> Poll<()> {
        let mut slots = self.mailbox.lock();
        if let Some(id) = self.id {
            if slots
                .side
                .as_mut()
                .is_some_and(|s| s.waiters.still_waiting_for_room(id, cx.waker()))
            {
                return Poll::Pending; // not woken yet
            }
            self.id = None;
        }
        if slots.closed || slots.occupied() + slots.held() < capacity {
            return Poll::Ready(());
        }
        self.id = Some(slots.side().waiters.add_room(cx.waker()));
        Poll::Pending
    }
}

impl<M, E> Drop for RoomWait<'_, M, E> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            if let Some(side) = self.mailbox.lock().side.as_mut() {
                side.waiters.remove_room(id);
            }
        }
    }
}
