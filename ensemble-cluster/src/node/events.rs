//! What a node reports about the others: members, their status, and membership events.

use std::fmt;
use std::net::SocketAddr;

use tokio::sync::mpsc;

/// Where a member is in its life, as this node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MemberStatus {
    /// Alive.
    Up,
    /// Leaving the cluster (shutting down gracefully).
    Leaving,
    /// Declared down (it will not come back: a restart is a new incarnation).
    Down,
}

/// One member of the cluster: a node, by name and incarnation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Member {
    /// The node's name.
    pub name: String,
    /// Which start of the node this is: a restarted node is a new incarnation.
    pub incarnation: u64,
    /// Where it listens (gossip and connections).
    pub address: SocketAddr,
    /// Its status.
    pub status: MemberStatus,
}

impl Member {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its incarnation.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// Its address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its status.
    pub fn status(&self) -> MemberStatus {
        self.status
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{} ({})", self.name, self.incarnation, self.address)
    }
}

/// Why a member is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DownReason {
    /// It left gracefully (`Node::shutdown`).
    Left,
    /// The failure detector stopped hearing from it (a crash, a hang, a partition).
    Unreachable,
    /// Its connection closed and reconnecting was refused: the process is gone.
    ConnectionLost,
    /// A newer incarnation of it appeared (it restarted).
    Restarted,
    /// Not the member's doing: the cluster declared *this* node down (it hung or was cut
    /// off for longer than the failure detector waits), so every member it knew is down
    /// for it, and it rejoins as a new incarnation ([`ClusterEvent::Rejoined`]).
    Isolated,
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DownReason::Left => "left the cluster",
            DownReason::Unreachable => "unreachable (failure detector)",
            DownReason::ConnectionLost => "connection lost and refused",
            DownReason::Restarted => "restarted as a new incarnation",
            DownReason::Isolated => "this node was declared down by the cluster and rejoins",
        })
    }
}

/// A change in membership, as [`Node::subscribe`](super::Node::subscribe) delivers it. Within one incarnation of
/// this node, each member is reported up once and down at most once, and never up again
/// after down.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// A member joined (or was first seen).
    NodeUp(Member),
    /// A member is down, for this reason.
    NodeDown(Member, DownReason),
    /// The cluster declared this node down (it hung, or was cut off, for longer than the
    /// failure detector waits; see the cluster guide's "Partitions"). Every member was
    /// reported down (`DownReason::Isolated`), and the node now gossips as this new
    /// incarnation: the members come up again as they answer. Its actors keep running;
    /// refs other nodes held to them are dead (they name the old incarnation).
    Rejoined {
        /// The node's new incarnation.
        incarnation: u64,
    },
}

/// The events of one subscription, in order.
#[derive(Debug)]
pub struct ClusterEvents {
    pub(super) rx: mpsc::UnboundedReceiver<ClusterEvent>,
}

impl ClusterEvents {
    /// The next event; `None` once the node has shut down.
    pub async fn recv(&mut self) -> Option<ClusterEvent> {
        self.rx.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<ClusterEvent> {
        self.rx.try_recv().ok()
    }
}
