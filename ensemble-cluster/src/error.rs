//! `ClusterError`: what can go wrong starting or using a node.

use std::fmt;

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
