//! `NodeConfig`: everything a node is started with.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use ensemble::ActorSystem;

use crate::transport::tls::server_name;
use crate::{ClusterError, TlsConfig};

/// How to start a [`Node`](crate::Node): its name and address, how to find the cluster,
/// and its credentials.
///
/// ```
/// use std::time::Duration;
/// use ensemble_cluster::{DevCa, NodeConfig};
/// # fn main() -> Result<(), ensemble_cluster::ClusterError> {
/// let ca = DevCa::new("example")?; // a real cluster loads its CA's files instead
/// let config = NodeConfig::new("node-a", "127.0.0.1:7100")
///     .seeds(["127.0.0.1:7101", "node-c.cluster.svc:7100"])
///     .tls(ca.tls_config("node-a")?)
///     .cluster_secret(b"a secret every node of the cluster shares")
///     .gossip_interval(Duration::from_millis(200));
/// # let _ = config; Ok(()) }
/// ```
#[derive(Clone)]
pub struct NodeConfig {
    pub(crate) name: String,
    pub(crate) listen_addr: Result<SocketAddr, String>,
    pub(crate) advertise_addr: Option<SocketAddr>,
    pub(crate) seeds: Vec<String>,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) secret: Option<Vec<u8>>,
    pub(crate) gossip_interval: Duration,
    pub(crate) insecure_dev: bool,
    pub(crate) cluster_id: String,
    pub(crate) system: Option<ActorSystem>,
    pub(crate) peer_queue: usize,
    pub(crate) max_frame: usize,
    pub(crate) phi_threshold: f64,
    pub(crate) connect_timeout: Duration,
    pub(crate) spawn_timeout: Duration,
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("name", &self.name)
            .field("listen_addr", &self.listen_addr)
            .field("seeds", &self.seeds)
            .field("tls", &self.tls.is_some())
            .field("secret", &self.secret.is_some())
            .field("gossip_interval", &self.gossip_interval)
            .field("insecure_dev", &self.insecure_dev)
            .finish_non_exhaustive()
    }
}

/// Anything that names a listening address: a `SocketAddr`, `"host:port"` text with an
/// IP host, `(ip, port)`.
pub trait ToListenAddr {
    /// The address, or why this is not one.
    fn to_listen_addr(&self) -> Result<SocketAddr, String>;
}

impl ToListenAddr for SocketAddr {
    fn to_listen_addr(&self) -> Result<SocketAddr, String> {
        Ok(*self)
    }
}

impl ToListenAddr for &str {
    fn to_listen_addr(&self) -> Result<SocketAddr, String> {
        self.parse()
            .map_err(|_| format!("{self:?} is not an address like \"127.0.0.1:7000\""))
    }
}

impl ToListenAddr for String {
    fn to_listen_addr(&self) -> Result<SocketAddr, String> {
        self.as_str().to_listen_addr()
    }
}

impl<I: Into<IpAddr> + Copy> ToListenAddr for (I, u16) {
    fn to_listen_addr(&self) -> Result<SocketAddr, String> {
        Ok(SocketAddr::new(self.0.into(), self.1))
    }
}

impl NodeConfig {
    /// A node named `name` (a DNS name its certificate carries) listening on
    /// `listen_addr` for both gossip (UDP) and connections (TCP). Port 0 lets the OS
    /// choose (the node's address then says which).
    pub fn new(name: impl Into<String>, listen_addr: impl ToListenAddr) -> NodeConfig {
        NodeConfig {
            name: name.into(),
            listen_addr: listen_addr.to_listen_addr(),
            advertise_addr: None,
            seeds: Vec::new(),
            tls: None,
            secret: None,
            gossip_interval: Duration::from_millis(200),
            insecure_dev: false,
            cluster_id: "ensemble".into(),
            system: None,
            peer_queue: 1024,
            max_frame: 16 << 20,
            phi_threshold: 8.0,
            connect_timeout: Duration::from_secs(2),
            spawn_timeout: Duration::from_secs(10),
        }
    }

    /// Nodes to join through, as `"host:port"`. Host names are resolved again on every
    /// attempt, so a Kubernetes headless service or a DNS round robin works.
    pub fn seeds<I>(mut self, seeds: I) -> NodeConfig
    where
        I: IntoIterator,
        I::Item: ToString,
    {
        self.seeds = seeds.into_iter().map(|s| s.to_string()).collect();
        self
    }

    /// This node's certificates (required unless [`insecure_dev`](Self::insecure_dev)).
    pub fn tls(mut self, tls: TlsConfig) -> NodeConfig {
        self.tls = Some(tls);
        self
    }

    /// The secret every node of the cluster shares; gossip is sealed with a key derived
    /// from it (required unless [`insecure_dev`](Self::insecure_dev)).
    pub fn cluster_secret(mut self, secret: impl AsRef<[u8]>) -> NodeConfig {
        self.secret = Some(secret.as_ref().to_vec());
        self
    }

    /// How often the node gossips (default 200 ms). Failure detection scales with it.
    pub fn gossip_interval(mut self, interval: Duration) -> NodeConfig {
        self.gossip_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// For local experiments only: certificates made at start from a CA every
    /// `insecure_dev` node derives the same way (so such nodes trust each other, and
    /// anyone could impersonate them), and a well-known gossip secret unless one is given.
    /// Logs a loud warning; refused unless the node listens on a loopback address.
    pub fn insecure_dev(mut self) -> NodeConfig {
        self.insecure_dev = true;
        self
    }

    /// The address other nodes reach this one at, when it differs from the listening
    /// address (behind NAT, or listening on `0.0.0.0`).
    pub fn advertise_addr(mut self, addr: SocketAddr) -> NodeConfig {
        self.advertise_addr = Some(addr);
        self
    }

    /// Nodes join only a cluster with the same id (default `"ensemble"`).
    pub fn cluster_id(mut self, id: impl Into<String>) -> NodeConfig {
        self.cluster_id = id.into();
        self
    }

    /// The [`ActorSystem`] the node's own actors (proxies) live in and whose names it
    /// serves (default: the global one). Give each node its own to run several in one
    /// process.
    pub fn system(mut self, system: &ActorSystem) -> NodeConfig {
        self.system = Some(system.clone());
        self
    }

    /// How many messages may wait for one peer's connection before `cast` to that node
    /// hands messages back with `SendError::Full` and `call` fails at once (default 1024).
    pub fn peer_queue(mut self, capacity: usize) -> NodeConfig {
        self.peer_queue = capacity.max(1);
        self
    }

    /// The largest frame accepted from a peer (default 16 MiB); a larger one closes the
    /// connection.
    pub fn max_frame(mut self, bytes: usize) -> NodeConfig {
        self.max_frame = bytes.max(64);
        self
    }

    /// The phi-accrual threshold above which a silent node is declared down (default 8:
    /// silence of about 18 times the mean interval at which news of the node arrives,
    /// which with several nodes gossiping is shorter than the gossip interval; at 200 ms
    /// on three nodes, a hung node was declared down after 0.7 to 1.3 s). Raise it for
    /// noisy networks. A crashed node whose connection closes is declared down sooner,
    /// when reconnecting is refused.
    pub fn failure_threshold(mut self, phi: f64) -> NodeConfig {
        if phi.is_finite() && phi > 0.0 {
            self.phi_threshold = phi;
        }
        self
    }

    /// How long [`Node::spawn_remote`](crate::Node::spawn_remote) waits for the other
    /// node to start the actor (default 10 s; at least 1 ms).
    pub fn spawn_timeout(mut self, timeout: Duration) -> NodeConfig {
        self.spawn_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Checks the configuration; fills in what `insecure_dev` provides.
    pub(crate) fn validate(mut self) -> Result<NodeConfig, ClusterError> {
        server_name(&self.name).map_err(ClusterError::Config)?;
        let listen = self.listen_addr.clone().map_err(ClusterError::Config)?;
        if self.insecure_dev {
            let loopback = listen.ip().is_loopback()
                && self.advertise_addr.is_none_or(|a| a.ip().is_loopback());
            if !loopback {
                return Err(ClusterError::Config(format!(
                    "insecure_dev is refused on {listen}: it is for loopback addresses only; \
                     give the node real certificates (.tls) and a secret (.cluster_secret)"
                )));
            }
            tracing::warn!(target: "ensemble::cluster", node = %self.name,
                "INSECURE DEV MODE: certificates from a CA anyone can recreate, loopback only; \
                 never use this beyond local experiments");
            let secret = self
                .secret
                .get_or_insert_with(|| b"ensemble insecure dev secret".to_vec())
                .clone();
            if self.tls.is_none() {
                let ca = crate::DevCa::from_seed("ensemble insecure dev CA", &secret)?;
                self.tls = Some(ca.tls_config(&self.name)?);
            }
        }
        let Some(tls) = &self.tls else {
            return Err(ClusterError::Config(
                "no certificates: add .tls(TlsConfig::from_pem_files(ca, cert, key)?) \
                 (or .insecure_dev() for a local experiment)"
                    .into(),
            ));
        };
        tls.check_names(&self.name)?;
        if self.secret.as_ref().is_none_or(|s| s.is_empty()) {
            return Err(ClusterError::Config(
                "no cluster secret: add .cluster_secret(bytes), the same on every node \
                 (or .insecure_dev() for a local experiment)"
                    .into(),
            ));
        }
        if listen.ip().is_unspecified() && self.advertise_addr.is_none() {
            return Err(ClusterError::Config(format!(
                "listening on {listen}: add .advertise_addr(addr) with the address other \
                 nodes reach this one at"
            )));
        }
        Ok(self)
    }

    pub(crate) fn listen(&self) -> SocketAddr {
        self.listen_addr
            .clone()
            .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
    }
}
