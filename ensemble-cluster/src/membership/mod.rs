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
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
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
#[derive(Clone)]
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
    pub(crate) faults: Arc<crate::faults::FaultState>,
}

/// One running chitchat instance: its handle and its state.
struct Gossip {
    handle: ChitchatHandle,
    chitchat: Arc<tokio::sync::Mutex<chitchat::Chitchat>>,
    /// Copies chitchat's view of the live members into ours.
    forward: tokio::task::AbortHandle,
}

/// A running membership. It can be restarted as a new incarnation of the node
/// ([`restart`](Self::restart)); its view of the live members and what this node
/// published carry over.
pub(crate) struct Membership {
    settings: Settings,
    gossip: tokio::sync::Mutex<Option<Gossip>>,
    /// The current instance's state, for quick reads and writes.
    chitchat: Mutex<Arc<tokio::sync::Mutex<chitchat::Chitchat>>>,
    live: watch::Sender<LiveNodes>,
    /// What this node publishes, kept to publish it again after a restart.
    published: Mutex<BTreeMap<String, String>>,
    /// Gossip datagrams dropped for not opening under the key.
    pub(crate) rejected: Arc<AtomicU64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Membership {
    pub(crate) async fn start(settings: Settings) -> Result<Membership, ClusterError> {
        let rejected = Arc::new(AtomicU64::new(0));
        let (live, _) = watch::channel(LiveNodes::new());
        let gossip = spawn(&settings, settings.incarnation, &[], &rejected, &live).await?;
        Ok(Membership {
            chitchat: Mutex::new(gossip.chitchat.clone()),
            gossip: tokio::sync::Mutex::new(Some(gossip)),
            settings,
            live,
            published: Mutex::default(),
            rejected,
        })
    }

    /// Gossips again as `incarnation`: the old instance stops, a new one starts on the
    /// same address with everything this node published but the keys that start with
    /// `forget`.
    pub(crate) async fn restart(&self, incarnation: u64, forget: &str) -> Result<(), ClusterError> {
        lock(&self.published).retain(|k, _| !k.starts_with(forget));
        let mut gossip = self.gossip.lock().await;
        if let Some(old) = gossip.take() {
            old.forward.abort();
            if let Err(e) = old.handle.shutdown().await {
                tracing::debug!(target: "ensemble::cluster", error = %e, "gossip stopped with an error");
            }
        }
        let published: Vec<(String, String)> = lock(&self.published)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let new = spawn(
            &self.settings,
            incarnation,
            &published,
            &self.rejected,
            &self.live,
        )
        .await?;
        *lock(&self.chitchat) = new.chitchat.clone();
        *gossip = Some(new);
        Ok(())
    }

    /// Watches the live members (a new value on every change of membership or state).
    pub(crate) fn watch(&self) -> watch::Receiver<LiveNodes> {
        self.live.subscribe()
    }

    /// Reads the live members without copying them.
    pub(crate) fn with_live<R>(&self, f: impl FnOnce(&LiveNodes) -> R) -> R {
        f(&self.live.borrow())
    }

    fn current(&self) -> Arc<tokio::sync::Mutex<chitchat::Chitchat>> {
        lock(&self.chitchat).clone()
    }

    /// The heartbeat of (`name`, `incarnation`) if chitchat holds it live.
    pub(crate) async fn live_heartbeat(&self, name: &str, incarnation: u64) -> Option<u64> {
        let chitchat = self.current();
        let chitchat = chitchat.lock().await;
        let id = chitchat
            .live_nodes()
            .find(|id| *id.node_id == *name && id.generation_id == incarnation)?
            .clone();
        chitchat.node_state(&id).map(|s| u64::from(s.heartbeat()))
    }

    /// Publishes `key = value` in this node's state.
    pub(crate) async fn set(&self, key: &str, value: &str) {
        lock(&self.published).insert(key.to_string(), value.to_string());
        self.current()
            .lock()
            .await
            .self_node_state()
            .set(key, value);
    }

    /// Removes `key` from this node's state (a tombstone other nodes learn of).
    pub(crate) async fn delete(&self, key: &str) {
        lock(&self.published).remove(key);
        self.current().lock().await.self_node_state().delete(key);
    }

    /// A graceful leave: publish `leaving`, gossip it to every live node at once (not at
    /// the next round), give it a moment to go out, then stop gossiping.
    pub(crate) async fn leave(&self) {
        let mut gossip = self.gossip.lock().await;
        let Some(current) = gossip.take() else {
            return;
        };
        current
            .chitchat
            .lock()
            .await
            .self_node_state()
            .set(STATUS, LEAVING);
        let peers: Vec<SocketAddr> =
            self.with_live(|live| live.keys().map(|id| id.gossip_advertise_addr).collect());
        for addr in peers {
            let _ = current.handle.gossip(addr);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        current.forward.abort();
        if let Err(e) = current.handle.shutdown().await {
            tracing::debug!(target: "ensemble::cluster", error = %e, "gossip stopped with an error");
        }
    }

    /// Stops gossiping at once (no leave): for a node dropped without `shutdown`.
    pub(crate) fn abort(&self) {
        if let Ok(gossip) = self.gossip.try_lock() {
            if let Some(g) = gossip.as_ref() {
                g.forward.abort();
                g.handle.abort();
            }
        }
    }
}

/// Starts chitchat as `incarnation`, publishing `state`, and a task copying its view of
/// the live members into `live`.
async fn spawn(
    settings: &Settings,
    incarnation: u64,
    state: &[(String, String)],
    rejected: &Arc<AtomicU64>,
    live: &watch::Sender<LiveNodes>,
) -> Result<Gossip, ClusterError> {
    let key =
        GossipKey::derive(&settings.secret, &settings.cluster_id).map_err(ClusterError::Config)?;
    let transport = SealedUdp {
        key,
        rejected: rejected.clone(),
        faults: settings.faults.clone(),
    };
    let interval = settings.gossip_interval;
    let config = ChitchatConfig {
        chitchat_id: ChitchatId::new(settings.name.as_str(), incarnation, settings.advertise),
        cluster_id: settings.cluster_id.clone(),
        gossip_interval: interval,
        listen_addr: settings.listen,
        seed_nodes: settings.seeds.clone(),
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
    let mut initial = vec![(STATUS.to_string(), UP.to_string())];
    initial.extend(state.iter().cloned());
    let handle = chitchat::spawn_chitchat(config, initial, &transport)
        .await
        .map_err(|e| ClusterError::Membership(format!("{e:#}")))?;
    let chitchat = handle.chitchat();
    let mut watcher = chitchat.lock().await.live_nodes_watcher();
    let live = live.clone();
    let forward = tokio::spawn(async move {
        loop {
            let snapshot = watcher.borrow_and_update().clone();
            live.send_replace(snapshot);
            if watcher.changed().await.is_err() {
                return;
            }
        }
    })
    .abort_handle();
    Ok(Gossip {
        handle,
        chitchat,
        forward,
    })
}
