//! `Node`: one member of a cluster, tying membership, transport, remote refs and the
//! registry together behind the public API.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ensemble::remote::RemoteMessage;
use ensemble::{ActorCell, ActorRef, ActorSystem};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::membership::{self, Membership};
use crate::registry::{Publish, Registry};
use crate::remote::Remote;
use crate::transport::{self, Transport};
use crate::{ClusterError, NodeConfig};

mod events;
mod view;

pub use events::{ClusterEvent, ClusterEvents, DownReason, Member, MemberStatus};

/// One node of a cluster. Cheap to clone; clones are the same node.
///
/// ```no_run
/// # async fn demo() -> Result<(), ensemble_cluster::ClusterError> {
/// use ensemble_cluster::{Node, NodeConfig, TlsConfig};
/// let node = Node::start(
///     NodeConfig::new("node-a", "10.0.0.1:7100")
///         .seeds(["10.0.0.2:7100"])
///         .tls(TlsConfig::from_pem_files("ca.pem", "node-a.pem", "node-a.key")?)
///         .cluster_secret(std::env::var("CLUSTER_SECRET").unwrap_or_default()),
/// )
/// .await?;
/// for member in node.members() {
///     println!("{member}");
/// }
/// node.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) name: String,
    incarnation: AtomicU64,
    address: SocketAddr,
    pub(crate) system: ActorSystem,
    pub(crate) membership: Membership,
    pub(crate) remote: Arc<Remote>,
    registry: Registry,
    pub(crate) publish: mpsc::UnboundedSender<Publish>,
    pub(crate) spawn_timeout: Duration,
    gossip_interval: Duration,
    /// The parent of actors spawned elsewhere with `spawn_remote` (made on first use).
    pub(crate) anchor: tokio::sync::OnceCell<ActorCell>,
    /// Heartbeats of incarnations this node declared down, when first seen beating on
    /// (see `view::holds_stale_accusation`).
    beats: Mutex<HashMap<(String, u64), (u64, tokio::time::Instant)>>,
    #[cfg_attr(not(feature = "faults"), allow(dead_code))]
    faults: Arc<crate::faults::FaultState>,
    members: Mutex<Members>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<ClusterEvent>>>,
    tasks: Mutex<Vec<AbortHandle>>,
    stopped: AtomicBool,
}

/// What this node knows of the others.
#[derive(Default)]
struct Members {
    /// Live (or leaving) members by name: the current incarnation of each.
    known: HashMap<String, Member>,
    /// Incarnations declared down: they never come back.
    down: HashSet<(String, u64)>,
}

/// The key prefix of the down markers a node publishes: `q:<name>` = the incarnation of
/// `name` it declared down.
const DOWN_PREFIX: &str = "q:";

/// Nanoseconds since the Unix epoch: a new incarnation.
fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Node({}#{})", self.inner.name, self.inner.incarnation())
    }
}

impl Node {
    /// Starts a node: binds its address (UDP for gossip, TCP for connections), joins the
    /// cluster through its seeds, and accepts connections. Returns once it is listening;
    /// members appear as gossip finds them ([`subscribe`](Self::subscribe)).
    pub async fn start(config: NodeConfig) -> Result<Node, ClusterError> {
        let config = config.validate()?;
        let incarnation = now_ns();
        let listener = bind(config.listen()).await?;
        let port = listener
            .local_addr()
            .map_err(|e| ClusterError::io("reading the listening address", e))?
            .port();
        let listen = SocketAddr::new(config.listen().ip(), port);
        let address = config.advertise_addr.unwrap_or(listen);
        let system = config.system.clone().unwrap_or_else(ActorSystem::global);
        let tls = config
            .tls
            .clone()
            .ok_or(ClusterError::Config("no TLS".into()))?;
        let (signals_tx, signals) = mpsc::unbounded_channel();
        let faults = Arc::new(crate::faults::FaultState::new());
        let remote = Remote::new(
            config.name.clone(),
            incarnation,
            system.clone(),
            config.peer_queue,
            signals_tx,
        );
        let transport = Transport::start(
            listener,
            &tls,
            transport::Settings {
                name: config.name.clone(),
                incarnation,
                peer_queue: config.peer_queue,
                max_frame: config.max_frame,
                connect_timeout: config.connect_timeout,
            },
            remote.clone(),
            faults.clone(),
        )?;
        remote.set_transport(transport);
        // Monitors and links of this system's proxies go through this node.
        let distribution: std::sync::Weak<dyn ensemble::remote::Distribution> =
            Arc::downgrade(&remote) as std::sync::Weak<dyn ensemble::remote::Distribution>;
        system.set_distribution(distribution);
        let membership = Membership::start(membership::Settings {
            name: config.name.clone(),
            incarnation,
            listen,
            advertise: address,
            seeds: config.seeds.clone(),
            cluster_id: config.cluster_id.clone(),
            gossip_interval: config.gossip_interval,
            phi_threshold: config.phi_threshold,
            secret: config.secret.clone().unwrap_or_default(),
            faults: faults.clone(),
        })
        .await?;
        let live = membership.watch();
        let (publish, published) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            name: config.name.clone(),
            incarnation: AtomicU64::new(incarnation),
            address,
            system,
            membership,
            remote,
            registry: Registry::default(),
            publish,
            spawn_timeout: config.spawn_timeout,
            gossip_interval: config.gossip_interval,
            anchor: tokio::sync::OnceCell::new(),
            beats: Mutex::default(),
            faults,
            members: Mutex::default(),
            subscribers: Mutex::default(),
            tasks: Mutex::default(),
            stopped: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&inner);
        let tasks = vec![
            tokio::spawn(view::watch_members(weak.clone(), live, signals)).abort_handle(),
            tokio::spawn(publish_state(weak.clone(), published)).abort_handle(),
            tokio::spawn(sweep(weak)).abort_handle(),
        ];
        *lock(&inner.tasks) = tasks;
        tracing::info!(target: "ensemble::cluster", node = %config.name, incarnation, %address,
            "node started");
        Ok(Node { inner })
    }

    /// This node's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// This node's incarnation (its start time, in ns since the Unix epoch).
    pub fn incarnation(&self) -> u64 {
        self.inner.incarnation()
    }

    /// Where this node listens (the advertised address).
    pub fn address(&self) -> SocketAddr {
        self.inner.address
    }

    /// The actor system the node serves.
    pub fn system(&self) -> &ActorSystem {
        &self.inner.system
    }

    /// The name of the node `actor` runs on: this node's for a local actor, the other
    /// node's for a ref to an actor elsewhere; `None` for a node this one never knew.
    pub fn node_of(&self, actor: &ActorCell) -> Option<String> {
        if actor.id().is_local() {
            return Some(self.inner.name.clone());
        }
        self.inner.remote.node_of(actor.id()).map(|(name, _)| name)
    }

    /// The members this node knows of now, itself first; members declared down are gone.
    pub fn members(&self) -> Vec<Member> {
        let me = Member {
            name: self.inner.name.clone(),
            incarnation: self.inner.incarnation(),
            address: self.inner.address,
            status: if self.inner.stopped.load(Ordering::Relaxed) {
                MemberStatus::Leaving
            } else {
                MemberStatus::Up
            },
        };
        let mut others: Vec<Member> = lock(&self.inner.members).known.values().cloned().collect();
        others.sort_by(|a, b| a.name.cmp(&b.name));
        std::iter::once(me).chain(others).collect()
    }

    /// Membership events from now on: each member up once, down at most once. Members
    /// already up are not replayed (read them with [`members`](Self::members)).
    pub fn subscribe(&self) -> ClusterEvents {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.inner.subscribers).push(tx);
        ClusterEvents { rx }
    }

    /// Publishes `actor` (of this node) under `name` to the whole cluster. The name is
    /// unique on this node (`ClusterError::NameTaken` otherwise) and disappears when the
    /// actor ends, when it is [`unregister`](Self::unregister)ed, or with the node.
    pub fn register<M: RemoteMessage>(
        &self,
        name: impl AsRef<str>,
        actor: &ActorRef<M>,
    ) -> Result<(), ClusterError> {
        self.running()?;
        let name = name.as_ref();
        self.inner
            .registry
            .register(&self.inner.remote, &self.inner.publish, name, actor)?;
        let name = name.to_string();
        self.when_ended(actor.cell(), move |inner, cell| {
            let _ = inner.registry.unregister(&inner.publish, &name, Some(cell));
        });
        Ok(())
    }

    /// Removes a name this node published.
    pub fn unregister(&self, name: impl AsRef<str>) -> Result<(), ClusterError> {
        self.inner
            .registry
            .unregister(&self.inner.publish, name.as_ref(), None)
    }

    /// The actor registered as `name` on any live node, if its message type is `M`:
    /// the actor itself if it is on this node, else a ref to it that works the same.
    /// `None` if no live node publishes the name, or for another message type. A name
    /// published elsewhere is seen here after gossip spreads it (a few gossip intervals).
    pub async fn where_is<M: RemoteMessage>(&self, name: impl AsRef<str>) -> Option<ActorRef<M>> {
        let inner = &self.inner;
        inner.membership.with_live(|live| {
            inner.registry.where_is::<M>(
                &inner.remote,
                live,
                |n, i| inner.is_down(n, i),
                name.as_ref(),
            )
        })
    }

    /// Adds `actor` (of this node) to the cluster-wide process group `group`. It leaves
    /// when it ends, when it [`leave`](Self::leave)s, or with the node.
    pub fn join<M: RemoteMessage>(
        &self,
        group: impl AsRef<str>,
        actor: &ActorRef<M>,
    ) -> Result<(), ClusterError> {
        self.running()?;
        let group = group.as_ref();
        self.inner
            .registry
            .join(&self.inner.remote, &self.inner.publish, group, actor)?;
        let group = group.to_string();
        self.when_ended(actor.cell(), move |inner, cell| {
            inner.registry.leave(&inner.publish, &group, cell);
        });
        Ok(())
    }

    /// Removes `actor` from `group`; `false` if it was not a member here.
    pub fn leave<M: RemoteMessage>(&self, group: impl AsRef<str>, actor: &ActorRef<M>) -> bool {
        self.inner
            .registry
            .leave(&self.inner.publish, group.as_ref(), &actor.cell())
    }

    /// The members of `group` on every live node whose message type is `M` (this node's
    /// first). Remote members are refs that work the same as local ones.
    pub fn group_members<M: RemoteMessage>(&self, group: impl AsRef<str>) -> Vec<ActorRef<M>> {
        let inner = &self.inner;
        inner.membership.with_live(|live| {
            inner.registry.members::<M>(
                &inner.remote,
                live,
                |n, i| inner.is_down(n, i),
                group.as_ref(),
            )
        })
    }

    /// Leaves the cluster gracefully: other nodes see this node down at once (`Left`),
    /// not after a timeout. Its names and groups disappear with it, its connections close,
    /// and refs to remote actors held here stop working. Local actors keep running.
    pub async fn shutdown(&self) {
        if self.inner.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        self.inner.membership.leave().await;
        if let Some(t) = self.inner.remote.transport() {
            t.leave(Duration::from_secs(1)).await;
        }
        let names: Vec<(String, u64)> = lock(&self.inner.members)
            .known
            .values()
            .map(|m| (m.name.clone(), m.incarnation))
            .collect();
        for (name, inc) in names {
            self.inner.remote.node_down(&name, inc);
        }
        for task in lock(&self.inner.tasks).drain(..) {
            task.abort();
        }
        lock(&self.inner.subscribers).clear();
        tracing::info!(target: "ensemble::cluster", node = %self.inner.name, "node left the cluster");
    }

    /// Gossip datagrams dropped because they were not sealed with this cluster's secret.
    pub fn gossip_rejected(&self) -> u64 {
        self.inner.membership.rejected.load(Ordering::Relaxed)
    }

    /// Connections refused and frames dropped because they came from a node incarnation
    /// declared down (quarantined: it must restart to rejoin).
    pub fn quarantine_drops(&self) -> u64 {
        self.inner
            .remote
            .transport()
            .map_or(0, crate::transport::Transport::quarantine_drops)
    }

    /// This node's fault layer, for tests (the `faults` feature): partitions, delay,
    /// message loss and connection resets. See [`faults`](crate::faults).
    #[cfg(feature = "faults")]
    pub fn faults(&self) -> crate::faults::Faults {
        crate::faults::Faults(self.inner.faults.clone())
    }

    /// Calls waiting for replies from other nodes.
    pub fn pending_calls(&self) -> usize {
        self.inner.remote.pending_calls()
    }

    /// Runs `then` once `cell` has ended, if the node is still there.
    fn when_ended(&self, cell: ActorCell, then: impl FnOnce(&Inner, &ActorCell) + Send + 'static) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let _ = cell.wait(None).await;
            if let Some(inner) = weak.upgrade() {
                then(&inner, &cell);
            }
        });
    }

    pub(crate) fn running(&self) -> Result<(), ClusterError> {
        if self.inner.stopped.load(Ordering::Relaxed) {
            Err(ClusterError::Shutdown)
        } else {
            Ok(())
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        self.membership.abort();
        if let Some(t) = self.remote.transport() {
            t.close_all();
        }
    }
}

impl Inner {
    fn incarnation(&self) -> u64 {
        self.incarnation.load(Ordering::Acquire)
    }

    /// The live member called `name` (not this node), if there is one.
    pub(crate) fn member(&self, name: &str) -> Option<Member> {
        let members = lock(&self.members);
        members
            .known
            .get(name)
            .filter(|m| m.status == MemberStatus::Up)
            .cloned()
    }

    pub(crate) fn is_down(&self, name: &str, incarnation: u64) -> bool {
        lock(&self.members)
            .down
            .contains(&(name.to_string(), incarnation))
    }

    fn emit(&self, event: ClusterEvent) {
        match &event {
            ClusterEvent::NodeUp(m) => {
                tracing::info!(target: "ensemble::cluster", node = %self.name, member = %m, "node up");
            }
            ClusterEvent::NodeDown(m, why) => {
                tracing::info!(target: "ensemble::cluster", node = %self.name, member = %m, reason = %why, "node down");
            }
            ClusterEvent::Rejoined { incarnation } => {
                tracing::info!(target: "ensemble::cluster", node = %self.name, incarnation, "rejoined");
            }
        }
        lock(&self.subscribers).retain(|s| s.send(event.clone()).is_ok());
    }
}

/// Binds the TCP listener; with port 0, one whose port is also free for UDP (gossip uses
/// the same port number).
async fn bind(addr: SocketAddr) -> Result<TcpListener, ClusterError> {
    for _ in 0..16 {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| ClusterError::io(format!("binding {addr}/tcp"), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| ClusterError::io("reading the listening address", e))?
            .port();
        let udp_free = std::net::UdpSocket::bind(SocketAddr::new(addr.ip(), port)).is_ok();
        if udp_free || addr.port() != 0 {
            return Ok(listener);
        }
    }
    Err(ClusterError::Config(format!(
        "found no port on {} free for both TCP and UDP",
        addr.ip()
    )))
}

async fn publish_state(inner: Weak<Inner>, mut published: mpsc::UnboundedReceiver<Publish>) {
    while let Some(change) = published.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        match change {
            Publish::Set(key, value) if key.starts_with(DOWN_PREFIX) => {
                // A marker of an earlier incarnation of this node is not published.
                let current = value
                    .parse::<u64>()
                    .is_ok_and(|inc| inner.is_down(&key[DOWN_PREFIX.len()..], inc));
                if current {
                    inner.membership.set(&key, &value).await;
                }
            }
            Publish::Set(key, value) => inner.membership.set(&key, &value).await,
            Publish::Delete(key) => inner.membership.delete(&key).await,
        }
    }
}

async fn sweep(inner: Weak<Inner>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        inner.remote.sweep();
    }
}
