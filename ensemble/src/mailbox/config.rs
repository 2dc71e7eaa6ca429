//! A mailbox's public face: its bound and overflow policy, and its counts.

use std::fmt;

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
    /// With `Overflow::Wait`: whether `call` waits for room too (it does, except for the
    /// cluster's proxies, where a call to a backed-up node fails at once).
    calls_wait: bool,
}

impl MailboxConfig {
    /// No bound (the default).
    pub const fn unbounded() -> Self {
        MailboxConfig {
            capacity: None,
            overflow: Overflow::Reject,
            calls_wait: true,
        }
    }

    /// At most `capacity` messages waiting (at least 1), with `overflow` deciding what
    /// happens to one more. The message being handled does not count.
    pub const fn bounded(capacity: usize, overflow: Overflow) -> Self {
        MailboxConfig {
            capacity: Some(if capacity == 0 { 1 } else { capacity }),
            overflow,
            calls_wait: true,
        }
    }

    /// The bound, if any.
    pub const fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    /// `Wait`-bounded, but `call` does not wait for room: it fails at once with `Full`
    /// (a remote actor's proxy: a call to a backed-up node should not queue up).
    #[cfg(feature = "remote")]
    pub(crate) const fn calls_fail_fast(mut self) -> Self {
        self.calls_wait = false;
        self
    }

    pub(crate) const fn calls_wait(&self) -> bool {
        self.calls_wait
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
