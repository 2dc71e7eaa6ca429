//! Model checks of the mailbox under [loom](https://docs.rs/loom), which runs each test
//! body under every interleaving of its threads (up to a preemption bound) on loom's
//! instrumented mutex, atomics and thread parking, and fails on a broken assertion or on
//! a deadlock: every thread parked with nobody left to wake it, which is what a lost
//! wake-up looks like.
//!
//! Run them with (a separate target directory keeps the normal build's cache):
//!
//! ```text
//! RUSTFLAGS="--cfg ensemble_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p ensemble --lib --release mailbox::model
//! ```
//!
//! Loom rather than shuttle: the races that matter here are small (two or three threads,
//! a handful of operations each), where loom's exhaustive search (with a preemption
//! bound of 3) gives a proof for that bound, while shuttle's random schedules give
//! confidence only in proportion to their number. Each test below names the race it
//! covers.

#![allow(clippy::unwrap_used, clippy::panic)] // tests may unwrap and panic

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;

use super::*;

type Mb = Mailbox<u32, u32>;

/// Explores every interleaving with at most 3 preemptions (loom's advice: bugs rarely
/// need more, and the search grows exponentially with the bound).
fn check(f: impl Fn() + Send + Sync + 'static) {
    check_bounded(3, f);
}

/// As [`check`] with another preemption bound (for tests with more threads, whose
/// search at 3 would not fit CI's time).
fn check_bounded(preemptions: usize, f: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(f);
}

/// The actor side: waits (parking its loom thread) until the mailbox has work.
fn next(mb: &Mb, flag: &SignalFlag, batch: &mut VecDeque<u32>) -> Next<u32> {
    let mut progress = Progress::default();
    block_on(poll_fn(|cx| mb.poll_next(flag, batch, &mut progress, cx)))
}

/// Takes one batch, waiting for it; signals are not expected. Calling it again means
/// the batch was handled (a bounded mailbox then frees what the batch still counted).
fn take(mb: &Mb, flag: &SignalFlag) -> Vec<u32> {
    let mut batch = VecDeque::new();
    match next(mb, flag, &mut batch) {
        Next::Messages => {}
        _ => panic!("expected a message"),
    }
    batch.into()
}

/// Polls `fut` once; runs `registered` if it is pending, then drives it to the end.
async fn poll_once_then<F: Future>(fut: F, registered: impl FnOnce()) -> F::Output {
    let mut fut = pin!(fut);
    let first = poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(out) => out,
        Poll::Pending => {
            registered();
            fut.await
        }
    }
}

/// A thread that sends `msg` with `push_wait`, raising its flag once it waits; it must
/// get the message in.
fn waiting_sender(mb: &Arc<Mb>, msg: u32) -> (thread::JoinHandle<()>, Arc<AtomicBool>) {
    let waiting = Arc::new(AtomicBool::new(false));
    let (mb, flag) = (mb.clone(), waiting.clone());
    let handle = thread::spawn(move || {
        let wait = mb.push_wait(msg, None);
        let done = block_on(poll_once_then(wait, || flag.store(true, Ordering::Release)));
        assert!(matches!(done, Ok(Pushed::Queued)));
    });
    (handle, waiting)
}

fn spin_until(flag: &AtomicBool) {
    while !flag.load(Ordering::Acquire) {
        thread::yield_now();
    }
}

/// Push vs take vs park (unbounded): a sender pushes while the actor takes batches and
/// parks in between. No wake-up is lost (else: deadlock) and order is kept.
#[test]
fn push_take_and_park_lose_no_wakeup_and_keep_order() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::unbounded()));
        let flag = SignalFlag::new();
        let sender = {
            let mb = mb.clone();
            thread::spawn(move || {
                for i in 1..=3 {
                    assert!(matches!(mb.push(i), Ok(Pushed::Queued)));
                }
            })
        };
        let mut seen = Vec::new();
        let mut batch = VecDeque::new();
        while seen.len() < 3 {
            assert!(matches!(next(&mb, &flag, &mut batch), Next::Messages));
            seen.extend(batch.drain(..));
        }
        assert_eq!(seen, [1, 2, 3]);
        sender.join().unwrap();
    });
}

/// Close vs push: every message is either handed back (`Closed`), handled, or returned by
/// `close` (a dead letter); none is lost or counted twice, and order is kept.
#[test]
fn close_racing_push_loses_nothing() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::unbounded()));
        let flag = SignalFlag::new();
        let sender = {
            let mb = mb.clone();
            thread::spawn(move || {
                let mut refused = Vec::new();
                for i in 1..=2 {
                    match mb.push(i) {
                        Ok(Pushed::Queued) => {}
                        Err(Refused::Closed(m)) => refused.push(m),
                        _ => panic!("unexpected push outcome"),
                    }
                }
                refused
            })
        };
        let mut batch = VecDeque::new();
        assert!(matches!(next(&mb, &flag, &mut batch), Next::Messages));
        let handled: Vec<u32> = batch.drain(..).collect();
        let left: Vec<u32> = mb.close().into_iter().collect();
        let refused = sender.join().unwrap();
        let mut all: Vec<u32> = handled
            .iter()
            .chain(&left)
            .chain(&refused)
            .copied()
            .collect();
        assert_eq!(
            handled.iter().chain(&left).count(),
            mb.stats().received as usize
        );
        all.sort_unstable();
        assert_eq!(all, [1, 2], "every message accounted for exactly once");
        // A refusal means the mailbox was closed: nothing after it was accepted.
        if let Some(&first_refused) = refused.first() {
            assert!(handled.iter().chain(&left).all(|&m| m < first_refused));
        }
    });
}

/// A freed slot vs a waiting sender vs a newcomer: the slot the actor frees while a
/// sender waits is held for that sender, so a later `push` finds the mailbox full; the
/// waiting sender's message arrives.
#[test]
fn a_freed_slot_is_held_for_the_waiting_sender() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::bounded(1, Overflow::Wait)));
        let flag = SignalFlag::new();
        assert!(mb.push(0).is_ok());
        let (sender, waiting) = waiting_sender(&mb, 1);
        spin_until(&waiting);
        assert_eq!(take(&mb, &flag), [0]);
        // The slot is held for the waiting sender (or already holds its message).
        assert!(matches!(mb.push(2), Err(Refused::Full(2))));
        assert_eq!(take(&mb, &flag), [1]);
        sender.join().unwrap();
        assert_eq!(mb.stats().rejected, 1);
    });
}

/// A batch vs a waiting sender vs a newcomer (a bound above one): the actor takes the
/// whole queue, and all but the message in hand still count against the bound until it
/// is back for more; the slot it freed is held for the waiting sender, a newcomer finds
/// the mailbox full, and the sender's message arrives.
#[test]
fn a_batch_counts_against_the_bound_until_the_actor_is_back() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::bounded(2, Overflow::Wait)));
        let flag = SignalFlag::new();
        assert!(mb.push(0).is_ok());
        assert!(mb.push(1).is_ok());
        let (sender, waiting) = waiting_sender(&mb, 2);
        spin_until(&waiting);
        assert_eq!(take(&mb, &flag), [0, 1]);
        assert!(matches!(mb.push(3), Err(Refused::Full(3))));
        assert_eq!(take(&mb, &flag), [2]);
        sender.join().unwrap();
        assert_eq!(mb.stats().queued, 0);
    });
}

/// Two waiting senders vs a batch (a bound above one): the batch frees one slot for the
/// first sender; the second gets the slots the batch still counted once the actor is done
/// with it, whether the actor then takes more mail or parks (else: deadlock).
#[test]
fn the_slots_a_batch_counted_go_to_waiting_senders_when_it_is_done() {
    // Four threads: at 2 preemptions (3 takes minutes).
    check_bounded(2, || {
        let mb = Arc::new(Mb::new(MailboxConfig::bounded(2, Overflow::Wait)));
        let flag = SignalFlag::new();
        assert!(mb.push(0).is_ok());
        assert!(mb.push(1).is_ok());
        let (first, first_waiting) = waiting_sender(&mb, 2);
        let (second, second_waiting) = waiting_sender(&mb, 3);
        spin_until(&first_waiting);
        spin_until(&second_waiting);
        let mut seen = take(&mb, &flag);
        while seen.len() < 4 {
            seen.extend(take(&mb, &flag));
        }
        first.join().unwrap();
        second.join().unwrap();
        assert_eq!(&seen[..2], [0, 1]);
        assert!(seen[2..].contains(&2) && seen[2..].contains(&3));
    });
}

/// A freed slot vs two waiting senders, one of which gives up: whichever held the slot,
/// the one that stays gets its message in (a sender that leaves with a held slot hands
/// it on; otherwise: deadlock).
#[test]
fn a_sender_giving_up_hands_its_held_slot_on() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::bounded(1, Overflow::Wait)));
        let flag = SignalFlag::new();
        assert!(mb.push(0).is_ok());
        let (stays, stays_waiting) = waiting_sender(&mb, 1);
        let leaver_waiting = Arc::new(AtomicBool::new(false));
        let leaver = {
            let (mb, waiting) = (mb.clone(), leaver_waiting.clone());
            thread::spawn(move || {
                let mut wait = Box::pin(mb.push_wait(2, None));
                let cx = &mut Context::from_waker(Waker::noop());
                if wait.as_mut().poll(cx).is_pending() {
                    waiting.store(true, Ordering::Release);
                    drop(wait); // gives up, perhaps holding the slot
                }
            })
        };
        spin_until(&stays_waiting);
        spin_until(&leaver_waiting);
        assert_eq!(take(&mb, &flag), [0]);
        assert_eq!(take(&mb, &flag), [1]);
        stays.join().unwrap();
        leaver.join().unwrap();
        assert_eq!(mb.stats().queued, 0);
    });
}

/// A slot is held only if one is free: with the mailbox over its bound (a runtime message
/// passed it), freeing one slot must not admit a waiting sender; the bound holds for
/// every sender's message.
#[test]
fn a_slot_is_held_only_when_one_is_free() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::bounded(1, Overflow::Wait)));
        let flag = SignalFlag::new();
        assert!(mb.push(0).is_ok());
        assert!(mb.push_internal(9).is_ok()); // over the bound, on purpose
        let sender = {
            let mb = mb.clone();
            thread::spawn(move || {
                assert!(block_on(mb.push_wait(1, None)).is_ok());
                // Right after it went in, the mailbox holds at most its bound.
                assert!(mb.stats().queued <= 1, "bound exceeded by a waiting sender");
            })
        };
        // One batch: what is beyond the message in hand still counts, so the sender
        // waits until the actor is back for more.
        assert_eq!(take(&mb, &flag), [0, 9]);
        assert_eq!(take(&mb, &flag), [1]);
        sender.join().unwrap();
    });
}

/// A feed waiting for room vs a waiting sender vs the actor: the freed slot goes to the
/// sender, the feed hears of room once there is room for it, and nobody is left asleep.
#[test]
fn a_feed_and_a_waiting_sender_never_strand_each_other() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::bounded(1, Overflow::Wait)));
        let flag = SignalFlag::new();
        assert!(mb.push(0).is_ok());
        let sender = {
            let mb = mb.clone();
            thread::spawn(move || assert!(block_on(mb.push_wait(1, None)).is_ok()))
        };
        let feed = {
            let mb = mb.clone();
            thread::spawn(move || {
                block_on(mb.room());
                // Room means room for a newcomer, unless somebody took it since.
                mb.push(7).is_ok()
            })
        };
        let mut seen = Vec::new();
        while !seen.contains(&1) {
            seen.extend(take(&mb, &flag));
        }
        sender.join().unwrap();
        // The feed hears of room once the actor has emptied the mailbox.
        let fed = feed.join().unwrap();
        if fed && !seen.contains(&7) {
            seen.extend(take(&mb, &flag));
        }
        assert_eq!(seen[0], 0);
        assert_eq!(mb.stats().queued, 0);
    });
}

/// Close vs a waiting sender: the sender is released with its message (`Closed`), never
/// left waiting.
#[test]
fn a_waiting_sender_hears_the_close() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::bounded(1, Overflow::Wait)));
        assert!(mb.push(0).is_ok());
        let sender = {
            let mb = mb.clone();
            thread::spawn(move || block_on(mb.push_wait(1, None)))
        };
        assert!(mb.drain());
        match sender.join().unwrap() {
            Err(Refused::Closed(1)) => {}
            _ => panic!("a waiting sender must get its message back when the mailbox closes"),
        }
        assert_eq!(mb.close().len(), 1);
    });
}

/// A signal racing a batch: once `ask_stop` has returned, the actor starts no further
/// message without first seeing the stop, and a parked actor is woken by it.
#[test]
fn a_stop_overtakes_the_rest_of_a_batch() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::unbounded()));
        let flag = Arc::new(SignalFlag::new());
        let stop_sent = Arc::new(AtomicBool::new(false));
        let stopper = {
            let (mb, flag, stop_sent) = (mb.clone(), flag.clone(), stop_sent.clone());
            thread::spawn(move || {
                assert!(mb.push(1).is_ok());
                assert!(mb.push(2).is_ok());
                mb.ask_stop(&flag, Some("enough".into()));
                stop_sent.store(true, Ordering::SeqCst);
            })
        };
        let mut batch = VecDeque::new();
        loop {
            // Read before the check, so a stop sent before this point must be seen.
            let sent = stop_sent.load(Ordering::SeqCst);
            let signal = if flag.is_set() {
                mb.take_signal(&flag)
            } else if batch.is_empty() {
                match next(&mb, &flag, &mut batch) {
                    Next::Messages => continue,
                    Next::Signal(s) => Some(s),
                    Next::Drained => panic!("not draining"),
                }
            } else {
                assert!(
                    !sent,
                    "a message was started after a stop it should have seen"
                );
                batch.pop_front();
                continue;
            };
            match signal {
                Some(Signal::Stop(reason)) => {
                    assert_eq!(reason.as_deref(), Some("enough"));
                    break;
                }
                Some(_) => panic!("only a stop was sent"),
                None => {}
            }
        }
        stopper.join().unwrap();
    });
}

/// An event racing the end of the mailbox: it is either queued (and returned by `end`
/// for the caller to drop) or handed back to its sender, exactly once.
#[test]
fn an_event_racing_the_end_is_delivered_or_handed_back() {
    check(|| {
        let mb = Arc::new(Mb::new(MailboxConfig::unbounded()));
        let flag = Arc::new(SignalFlag::new());
        let sender = {
            let (mb, flag) = (mb.clone(), flag.clone());
            thread::spawn(move || mb.deliver_event(&flag, 5))
        };
        let (_, events) = mb.end(&flag);
        let queued = events.unwrap_or_default();
        match sender.join().unwrap() {
            Ok(()) => assert_eq!(queued, [5]),
            Err(5) => assert!(queued.is_empty()),
            Err(_) => panic!("wrong event handed back"),
        }
        assert!(!flag.is_set(), "an ended mailbox has no signal pending");
        assert_eq!(mb.deliver_event(&flag, 6), Err(6));
    });
}
