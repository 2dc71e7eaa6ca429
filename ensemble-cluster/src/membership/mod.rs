//! Membership: who is in the cluster, who is alive, and each node's published state, on
//! [chitchat](https://docs.rs/chitchat) (scuttlebutt gossip with phi-accrual failure
//! detection), with every datagram sealed under the cluster secret ([`seal`]).
//!
//! chitchat is pinned at 0.11.0, the last release whose transport hands messages out
//! with a public encoding (0.12 and later keep it private, so a sealing transport cannot
//! be written outside the crate).
//!
//! A node is known by name and incarnation (chitchat's generation: the start time), so a
//! restarted node is a new member. Each node publishes key-value pairs in its own state:
//! its status (`up`, then `leaving` on a graceful shutdown) and, for the layers above,
//! its registered names and group memberships.

pub(crate) mod seal;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chitchat::{ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig, NodeState};
use tokio::sync::watch;

use crate::ClusterError;
use seal::{GossipKey, SealedUdp};

/// The key of a node's status in its state.
pub(crate) const STATUS: &str = "ensemble.status";
/// Status values.
pub(crate) const UP: &str = "up";
pub(crate) const LEAVING: &str = "leaving";

/// The live members, each with its published state, as chitchat last reported them.
pub(crate) type LiveNodes = BTreeMap<ChitchatId, NodeState>;

/// How membership is started.
pub(crate) struct Settings {
    pub(crate) name: String,
    pub(crate) incarnation: u64,
    pub(crate) listen: SocketAddr,
    pub(crate) advertise: SocketAddr,
    pub(crate) seeds: Vec<String>,
    pub(crate) cluster_id: String,
    pub(crate) gossip_interval: Duration,
    pub(crate) phi_threshold: f64,
    pub(crate) secret: Vec<u8>,
}

/// A running membership.
pub(crate) struct Membership {
    handle: tokio::sync::Mutex<Option<ChitchatHandle>>,
    chitchat: Arc<tokio::sync::Mutex<chitchat::Chitchat>>,
    live: watch::Receiver<LiveNodes>,
    /// Gossip datagrams dropped for not opening under the key.
    pub(crate) rejected: Arc<AtomicU64>,
}

impl Membership {
    pub(crate) async fn start(settings: Settings) -> Result<Membership, ClusterError> {
        let key = GossipKey::derive(&settings.secret, &settings.cluster_id)
            .map_err(ClusterError::Config)?;
        let rejected = Arc::new(AtomicU64::new(0));
        let transport = SealedUdp {
            key,
            rejected: rejected.clone(),
        };
        let interval = settings.gossip_interval;
        let config = ChitchatConfig {
            chitchat_id: ChitchatId::new(
                settings.name.as_str(),
                settings.incarnation,
                settings.advertise,
            ),
            cluster_id: settings.cluster_id,
            gossip_interval: interval,
            listen_addr: settings.listen,
            seed_nodes: settings.seeds,
            failure_detector_config: FailureDetectorConfig {
                phi_threshold: settings.phi_threshold,
                sampling_window_size: 1_000,
                max_interval: (interval * 20).max(Duration::from_secs(2)),
                initial_interval: interval,
                dead_node_grace_period: Duration::from_secs(3_600),
            },
            marked_for_deletion_grace_period: Duration::from_secs(3_600),
            catchup_callback: None,
            extra_liveness_predicate: None,
        };
        let initial = vec![(STATUS.to_string(), UP.to_string())];
        let handle = chitchat::spawn_chitchat(config, initial, &transport)
            .await
            .map_err(|e| ClusterError::Membership(format!("{e:#}")))?;
        let chitchat = handle.chitchat();
        let live = chitchat.lock().await.live_nodes_watcher();
        Ok(Membership {
            handle: tokio::sync::Mutex::new(Some(handle)),
            chitchat,
            live,
            rejected,
        })
    }

    /// Watches the live members (a new value on every change of membership or state).
    pub(crate) fn watch(&self) -> watch::Receiver<LiveNodes> {
        self.live.clone()
    }

    /// Reads the live members without copying them.
    pub(crate) fn with_live<R>(&self, f: impl FnOnce(&LiveNodes) -> R) -> R {
        f(&self.live.borrow())
    }

    /// Publishes `key = value` in this node's state.
    pub(crate) async fn set(&self, key: &str, value: &str) {
        self.chitchat.lock().await.self_node_state().set(key, value);
    }

    /// Removes `key` from this node's state (a tombstone other nodes learn of).
    pub(crate) async fn delete(&self, key: &str) {
        self.chitchat.lock().await.self_node_state().delete(key);
    }

    /// A graceful leave: publish `leaving`, gossip it to every live node at once (not at
    /// the next round), give it a moment to go out, then stop gossiping.
    pub(crate) async fn leave(&self) {
        let mut handle = self.handle.lock().await;
        let Some(chitchat) = handle.take() else {
            return;
        };
        self.set(STATUS, LEAVING).await;
        let peers: Vec<SocketAddr> =
            self.with_live(|live| live.keys().map(|id| id.gossip_advertise_addr).collect());
        for addr in peers {
            let _ = chitchat.gossip(addr);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Err(e) = chitchat.shutdown().await {
            tracing::debug!(target: "ensemble::cluster", error = %e, "gossip stopped with an error");
        }
    }

    /// Stops gossiping at once (no leave): for a node dropped without `shutdown`.
    pub(crate) fn abort(&self) {
        if let Ok(handle) = self.handle.try_lock() {
            if let Some(handle) = handle.as_ref() {
                handle.abort();
            }
        }
    }
}
