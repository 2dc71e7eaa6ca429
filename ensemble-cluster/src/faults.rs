//! A fault layer for tests (the `faults` feature): partitions, delay, message loss and
//! connection resets injected inside one node's gossip and transport, since loopback
//! has no netem.
//!
//! Without the feature every check is a constant that lets everything through, and
//! [`Node::faults`](crate::Node::faults) does not exist. With it, a node's
//! [`Faults`] handle:
//!
//! - [`isolate`](Faults::isolate) cuts it off from everyone (gossip and connections, both
//!   ways): what a hung node or a one-node partition looks like from both sides;
//! - [`block`](Faults::block) cuts it off from one peer, one way or both;
//! - [`cut_gossip`](Faults::cut_gossip) cuts its gossip only, as a firewall dropping UDP
//!   would: the others declare it down while its connections still work;
//! - [`delay`](Faults::delay) holds every outgoing batch of frames that long;
//! - [`drop_one_in`](Faults::drop_one_in) drops outgoing messages (casts and calls; never
//!   the frames of supervision or of the transport);
//! - [`reset`](Faults::reset) breaks the connection to a peer, as a reset would;
//! - [`heal`](Faults::heal) ends them all.
//!
//! A blocked connection stalls rather than loses frames, as TCP would in a real
//! partition: what is queued is written when the block ends, unless the node declares the
//! peer down first (and drops the connection).

#[cfg(not(feature = "faults"))]
use std::net::SocketAddr;
#[cfg(not(feature = "faults"))]
use std::time::Duration;

/// Which traffic a [`block`](Faults::block) stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What the peer sends to this node.
    Inbound,
    /// What this node sends to the peer.
    Outbound,
    /// Both ways.
    Both,
}

#[cfg(feature = "faults")]
mod on {
    use std::collections::HashSet;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::time::Duration;

    use tokio::sync::Notify;

    use super::Direction;

    #[derive(Default)]
    pub(crate) struct FaultState {
        isolated: AtomicBool,
        gossip_cut: AtomicBool,
        blocked: Mutex<Vec<(String, SocketAddr, Direction)>>,
        delay_us: AtomicU64,
        drop_one_in: AtomicU32,
        sent: AtomicU64,
        dropped: AtomicU64,
        resets: Mutex<HashSet<String>>,
        reset_now: Notify,
    }

    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A node's fault controls (see the [module](crate::faults)).
    #[derive(Clone)]
    pub struct Faults(pub(crate) Arc<FaultState>);

    impl std::fmt::Debug for Faults {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Faults")
                .field("isolated", &self.0.isolated.load(Ordering::Relaxed))
                .field("blocked", &*lock(&self.0.blocked))
                .finish_non_exhaustive()
        }
    }

    impl Faults {
        /// Cuts this node off from every other, both ways.
        pub fn isolate(&self) {
            self.0.isolated.store(true, Ordering::Release);
        }

        /// Cuts this node's gossip (both ways) but not its connections: as when a firewall
        /// drops UDP. The others declare it down while its connections still work.
        pub fn cut_gossip(&self) {
            self.0.gossip_cut.store(true, Ordering::Release);
        }

        /// Cuts this node off from `peer` (its name and address), in `direction`.
        pub fn block(&self, peer: &crate::Member, direction: Direction) {
            let mut blocked = lock(&self.0.blocked);
            blocked.retain(|(n, _, _)| n != peer.name());
            blocked.push((peer.name().to_string(), peer.address(), direction));
        }

        /// Ends a [`block`](Self::block) of `peer`.
        pub fn unblock(&self, peer: &crate::Member) {
            lock(&self.0.blocked).retain(|(n, _, _)| n != peer.name());
        }

        /// Holds every outgoing batch of frames for `delay` (zero for none).
        pub fn delay(&self, delay: Duration) {
            let us = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
            self.0.delay_us.store(us, Ordering::Release);
        }

        /// Drops one outgoing message in `n` (casts and calls; 0 for none).
        pub fn drop_one_in(&self, n: u32) {
            self.0.drop_one_in.store(n, Ordering::Release);
        }

        /// Breaks the connection to the peer called `peer` now, if there is one (it is
        /// made again as after any loss).
        pub fn reset(&self, peer: &str) {
            lock(&self.0.resets).insert(peer.to_string());
            self.0.reset_now.notify_waiters();
        }

        /// Ends every fault: isolation, blocks, delay and drops.
        pub fn heal(&self) {
            self.0.isolated.store(false, Ordering::Release);
            self.0.gossip_cut.store(false, Ordering::Release);
            lock(&self.0.blocked).clear();
            self.0.delay_us.store(0, Ordering::Release);
            self.0.drop_one_in.store(0, Ordering::Release);
        }

        /// Messages dropped so far by [`drop_one_in`](Self::drop_one_in).
        pub fn dropped(&self) -> u64 {
            self.0.dropped.load(Ordering::Relaxed)
        }
    }

    impl FaultState {
        pub(crate) fn new() -> Self {
            FaultState::default()
        }

        fn passes(&self, matches: impl Fn(&(String, SocketAddr, Direction)) -> bool) -> bool {
            !self.isolated.load(Ordering::Acquire) && !lock(&self.blocked).iter().any(matches)
        }

        fn stops(direction: Direction, outbound: bool) -> bool {
            direction == Direction::Both || (direction == Direction::Outbound) == outbound
        }

        pub(crate) fn gossip(&self, peer: SocketAddr, outbound: bool) -> bool {
            !self.gossip_cut.load(Ordering::Acquire)
                && self.passes(|(_, a, d)| *a == peer && Self::stops(*d, outbound))
        }

        pub(crate) fn link(&self, peer: &str, outbound: bool) -> bool {
            self.passes(|(n, _, d)| n == peer && Self::stops(*d, outbound))
        }

        pub(crate) fn delay(&self) -> Duration {
            Duration::from_micros(self.delay_us.load(Ordering::Acquire))
        }

        pub(crate) fn drop_message(&self) -> bool {
            let n = self.drop_one_in.load(Ordering::Acquire);
            if n == 0 {
                return false;
            }
            let sent = self.sent.fetch_add(1, Ordering::Relaxed);
            let drop = sent % u64::from(n) == u64::from(n) - 1;
            if drop {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            drop
        }

        /// Waits until a reset of `peer` is asked for.
        pub(crate) async fn reset_asked(&self, peer: &str) {
            loop {
                let notified = self.reset_now.notified();
                if lock(&self.resets).remove(peer) {
                    return;
                }
                notified.await;
            }
        }
    }
}

#[cfg(feature = "faults")]
pub(crate) use on::FaultState;
#[cfg(feature = "faults")]
pub use on::Faults;

/// Without the `faults` feature: nothing is ever stopped, delayed or dropped.
#[cfg(not(feature = "faults"))]
pub(crate) struct FaultState;

#[cfg(not(feature = "faults"))]
#[allow(clippy::unused_self)]
impl FaultState {
    pub(crate) fn new() -> Self {
        FaultState
    }

    #[inline(always)]
    pub(crate) fn gossip(&self, _: SocketAddr, _: bool) -> bool {
        true
    }

    #[inline(always)]
    pub(crate) fn link(&self, _: &str, _: bool) -> bool {
        true
    }

    #[inline(always)]
    pub(crate) fn delay(&self) -> Duration {
        Duration::ZERO
    }

    #[inline(always)]
    pub(crate) fn drop_message(&self) -> bool {
        false
    }

    pub(crate) async fn reset_asked(&self, _: &str) {
        std::future::pending::<()>().await;
    }
}
