//! # Ensemble across machines
//!
//! `ensemble-cluster` spreads Ensemble actors over several nodes: the same
//! [`ActorRef`](ensemble::ActorRef) type reaches an actor on this node or another, with
//! the same `cast`, `call`, `send` and `stop`.
//!
//! - **Membership** on [chitchat](https://docs.rs/chitchat): scuttlebutt gossip with
//!   phi-accrual failure detection, every datagram sealed under a key derived from the
//!   cluster secret. A node is a name plus an incarnation; a restarted node is new.
//! - **Transport**: one TLS 1.3 connection per pair of nodes, both sides authenticated by
//!   certificates from the cluster's CA that name their node; length-delimited frames
//!   with a cap; a bounded queue per peer that pushes back on senders.
//! - **Wire**: a versioned envelope (target, sender, wire name, correlation id, timeout,
//!   trace context) around a MessagePack payload (structs as maps).
//! - **Remote refs**: typed proxies; `call` across nodes resolves exactly once.
//! - **Registry and groups**: names and group members published in each node's gossip
//!   state, gone with their node.
//! - **Supervision across nodes**: monitors and links between actors on different nodes,
//!   node loss as `ExitReason::NoConnection` (exactly once), remote spawn
//!   ([`Node::spawn_remote`]), supervisor children placed on other nodes
//!   ([`Node::remote_child`], [`Placement`]) and restarted on survivors, quarantine of
//!   dead incarnations, and automatic rejoin of a node the cluster declared down
//!   ([`ClusterEvent::Rejoined`]).
//!
//! ```no_run
//! use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
//! use ensemble_cluster::{Node, NodeConfig, RemoteMessage};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, RemoteMessage)]
//! #[remote(name = "greeter.v1")]
//! enum Greet {
//!     Hello(String, RpcReplyPort<String>),
//! }
//!
//! struct Greeter;
//! impl Actor for Greeter {
//!     type Msg = Greet;
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<Greet>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
//!     async fn handle(&self, _: ActorRef<Greet>, msg: Greet, _: &mut ()) -> Result<(), ActorProcessingErr> {
//!         let Greet::Hello(name, reply) = msg;
//!         reply.send(format!("hello, {name}"))?;
//!         Ok(())
//!     }
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // Node a (in one process):
//! let a = Node::start(NodeConfig::new("node-a", "127.0.0.1:7100").insecure_dev()).await?;
//! let (greeter, _) = Actor::spawn(None, Greeter, ()).await?;
//! a.register("greeter", &greeter)?;
//!
//! // Node b (in another), once gossip has spread the name:
//! let b = Node::start(
//!     NodeConfig::new("node-b", "127.0.0.1:7101").seeds(["127.0.0.1:7100"]).insecure_dev(),
//! )
//! .await?;
//! let greeter = b.where_is::<Greet>("greeter").await.expect("registered on node-a");
//! let text = greeter
//!     .call(|reply| Greet::Hello("b".into(), reply), Some(std::time::Duration::from_secs(1)))
//!     .await?;
//! assert_eq!(text, "hello, b");
//! # Ok(()) }
//! ```
//!
//! The [`guide`] explains setting up a real cluster, the message rules and what fails
//! how; `ensemble::semantics` has the rules, each with its test.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod config;
mod error;
pub mod faults;
mod membership;
mod node;
mod registry;
mod remote;
mod spawn;
mod transport;
pub mod wire;

pub use config::{NodeConfig, ToListenAddr};
pub use ensemble::remote::RemoteMessage;
pub use error::{ClusterError, RemoteSpawnError};
pub use node::{ClusterEvent, ClusterEvents, DownReason, Member, MemberStatus, Node};
pub use spawn::Placement;
pub use transport::tls::{DevCa, TlsConfig};

/// The guide's cluster chapter (`docs/guide/cluster.md` in the repository); its examples
/// run as doctests.
#[cfg(any(doc, doctest))]
#[doc = include_str!("../../docs/guide/cluster.md")]
pub mod guide {}

/// The frame codec, for fuzzing and property tests of what a peer may send.
pub mod frame {
    pub use crate::transport::frame::{FrameBuffer, FrameError, PREFIX, Parsed, parse, write};
}
