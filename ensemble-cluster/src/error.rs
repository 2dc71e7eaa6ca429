//! `ClusterError`: what can go wrong starting or using a node.

use std::fmt;

use ensemble::{RemoteError, SpawnError};

/// A node could not start, or a cluster operation failed. The text says what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClusterError {
    /// The configuration cannot work (a missing certificate or secret, a node name that is
    /// not a DNS name, `insecure_dev` on a public address, ...).
    Config(String),
    /// Certificates or keys could not be loaded or used.
    Tls(String),
    /// A socket could not be bound or used.
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Gossip membership could not start.
    Membership(String),
    /// The name is already registered on this node.
    NameTaken(String),
    /// No actor of this node is registered under the name.
    NotRegistered(String),
    /// The node has shut down.
    Shutdown,
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::Config(why) => write!(f, "cluster configuration: {why}"),
            ClusterError::Tls(why) => write!(f, "TLS: {why}"),
            ClusterError::Io { what, source } => write!(f, "{what}: {source}"),
            ClusterError::Membership(why) => write!(f, "gossip membership: {why}"),
            ClusterError::NameTaken(name) => write!(
                f,
                "the name {name:?} is already registered on this node; unregister it first"
            ),
            ClusterError::NotRegistered(name) => {
                write!(f, "no actor of this node is registered as {name:?}")
            }
            ClusterError::Shutdown => f.write_str("the node has shut down"),
        }
    }
}

impl std::error::Error for ClusterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClusterError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl ClusterError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ClusterError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Why [`Node::spawn_remote`](crate::Node::spawn_remote) (or a remote child of a
/// supervisor) did not start an actor on another node.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteSpawnError {
    /// No live member of the cluster has this name (or no member can spawn the kind, for
    /// a placement that chooses the node).
    NoNode(String),
    /// The node has no actor kind registered under this name: call
    /// `node.register_spawnable::<A>(..)` there first.
    NotSpawnable {
        /// The node asked.
        node: String,
        /// The kind (the actor's message type's wire name).
        kind: String,
    },
    /// The name is held by a live actor on that node.
    AlreadyRegistered {
        /// The node asked.
        node: String,
        /// The name.
        name: String,
    },
    /// The arguments could not be encoded here or decoded there (the text says why).
    Arguments(String),
    /// The actor's `pre_start` failed on that node (the text says how); its name, if
    /// any, is free again.
    StartupFailed {
        /// The node asked.
        node: String,
        /// What `pre_start` returned or panicked with.
        reason: String,
    },
    /// The request did not get through or the answer did not come back: the node went
    /// down or was unreachable (an actor may have started there before it went down).
    Remote(RemoteError),
    /// No answer within the node's spawn timeout (an actor may have started there; it is
    /// stopped when its answer arrives late).
    Timeout {
        /// The node asked.
        node: String,
    },
    /// This node has shut down, or the node asked is shutting down.
    Shutdown,
}

impl fmt::Display for RemoteSpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteSpawnError::NoNode(node) => write!(
                f,
                "no live member {node:?} to spawn on (check `node.members()`; a kind must be \
                 registered with `register_spawnable` on the node)"
            ),
            RemoteSpawnError::NotSpawnable { node, kind } => write!(
                f,
                "node {node:?} cannot spawn {kind:?}: call `register_spawnable` for that actor \
                 type on it first"
            ),
            RemoteSpawnError::AlreadyRegistered { node, name } => write!(
                f,
                "the name {name:?} is held by a live actor on node {node:?}; pick another name"
            ),
            RemoteSpawnError::Arguments(why) => write!(f, "spawn arguments: {why}"),
            RemoteSpawnError::StartupFailed { node, reason } => {
                write!(f, "actor failed to start on node {node:?}: {reason}")
            }
            RemoteSpawnError::Remote(e) => write!(f, "remote spawn: {e}"),
            RemoteSpawnError::Timeout { node } => write!(
                f,
                "node {node:?} did not answer the spawn request in time (the actor may have \
                 started; it is stopped when the late answer comes)"
            ),
            RemoteSpawnError::Shutdown => f.write_str("the node has shut down"),
        }
    }
}

impl std::error::Error for RemoteSpawnError {}

impl From<RemoteSpawnError> for SpawnError {
    fn from(e: RemoteSpawnError) -> Self {
        match e {
            RemoteSpawnError::AlreadyRegistered { name, .. } => SpawnError::AlreadyRegistered(name),
            other => SpawnError::StartupFailed(Box::new(other)),
        }
    }
}
