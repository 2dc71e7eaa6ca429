//! The transport: one mutually authenticated TLS 1.3 connection per pair of nodes,
//! carrying length-delimited frames.
//!
//! - A connection is made lazily, when a node first has something for another, and kept;
//!   a lost one is made again with backoff. If both nodes dial at once, both keep the one
//!   dialed by the node with the smaller name.
//! - Each side's first frame says who it is (`Hello`: name and incarnation); the accepting
//!   side checks that the client certificate names that node before reading further.
//! - Each peer has a bounded queue for messages (the backpressure point: when it is full,
//!   proxies stop taking messages and `cast` hands them back) and an unbounded one for
//!   replies, which must never be refused. A writer task batches what is queued into one
//!   TLS write.
//! - Frames are capped ([`NodeConfig::max_frame`](crate::NodeConfig::max_frame)); a
//!   malformed or oversized frame closes the connection with a logged reason.
//!
//! What a frame means is the business of the layers above, through [`Handler`].

pub(crate) mod control;
pub(crate) mod frame;
mod peer;
pub(crate) mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ensemble::remote::Outgoing;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use control::Control;
pub(crate) use peer::{Lost, Peer};

use crate::ClusterError;

pub(crate) type TlsStream = tokio_rustls::TlsStream<TcpStream>;

/// What the layers above do with frames and connection events.
pub(crate) trait Handler: Send + Sync + 'static {
    /// Appends the frame body for a message a proxy queued (nothing, to drop it).
    fn encode(&self, peer: &Arc<Peer>, out: Outgoing, body: &mut Vec<u8>);
    /// A frame arrived. `Err` closes the connection with that reason.
    fn frame(&self, peer: &Arc<Peer>, body: &[u8]) -> Result<(), String>;
    /// A connection to `peer` is up.
    fn connected(&self, peer: &Arc<Peer>);
    /// `peer` said it is leaving the cluster.
    fn goodbye(&self, peer: &Arc<Peer>);
    /// The connection to `peer` is gone.
    fn lost(&self, peer: &Arc<Peer>, why: Lost);
    /// A message for `peer` will never be sent (the peer is gone).
    fn undelivered(&self, peer: &Arc<Peer>, out: Outgoing);
}

/// The transport's fixed settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) name: String,
    pub(crate) incarnation: u64,
    pub(crate) peer_queue: usize,
    pub(crate) max_frame: usize,
    pub(crate) connect_timeout: Duration,
}

/// What the transport's tasks share.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    acceptor: TlsAcceptor,
    connector: TlsConnector,
    pub(crate) handler: Arc<dyn Handler>,
    /// The current incarnation of each node, by name.
    peers: Mutex<HashMap<String, Arc<Peer>>>,
    /// Incarnations declared down: never connected to again.
    quarantined: Mutex<std::collections::HashSet<(String, u64)>>,
    /// Connections refused and frames dropped because they came from a quarantined
    /// incarnation.
    pub(crate) quarantine_drops: std::sync::atomic::AtomicU64,
    /// This node's incarnation now (it changes when the node rejoins).
    incarnation: std::sync::atomic::AtomicU64,
    pub(crate) faults: Arc<crate::faults::FaultState>,
}

/// The transport of one node.
pub(crate) struct Transport {
    shared: Arc<Shared>,
    listener: tokio::task::AbortHandle,
}

impl Transport {
    /// Listens on `listener` (already bound) and accepts connections from other nodes.
    pub(crate) fn start(
        listener: TcpListener,
        tls: &crate::TlsConfig,
        settings: Settings,
        handler: Arc<dyn Handler>,
        faults: Arc<crate::faults::FaultState>,
    ) -> Result<Transport, ClusterError> {
        let (server, client) = tls.rustls()?;
        let incarnation = settings.incarnation;
        let shared = Arc::new(Shared {
            settings,
            acceptor: TlsAcceptor::from(server),
            connector: TlsConnector::from(client),
            handler,
            peers: Mutex::new(HashMap::new()),
            quarantined: Mutex::default(),
            quarantine_drops: std::sync::atomic::AtomicU64::new(0),
            incarnation: std::sync::atomic::AtomicU64::new(incarnation),
            faults,
        });
        let accepting = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Transport {
            shared,
            listener: accepting.abort_handle(),
        })
    }

    /// The peer for this incarnation of `name`, made if needed. `None` if a newer
    /// incarnation of the node is already known (this one is gone).
    pub(crate) fn peer(&self, name: &str, incarnation: u64, addr: SocketAddr) -> Option<Arc<Peer>> {
        let peer = self.shared.peer(name, incarnation, Some(addr))?;
        peer.set_addr(addr);
        Some(peer)
    }

    /// The peer for `name`, if one is known.
    pub(crate) fn existing(&self, name: &str) -> Option<Arc<Peer>> {
        self.shared.peers().get(name).cloned()
    }

    /// Forgets this incarnation of `name` (it is down): its queues close, so messages
    /// for it fail at once, and it is quarantined: never connected to again.
    pub(crate) fn remove(&self, name: &str, incarnation: u64, quarantine: bool) {
        if quarantine {
            self.shared
                .quarantined
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert((name.to_string(), incarnation));
        }
        let removed = {
            let mut peers = self.shared.peers();
            match peers.get(name) {
                Some(p) if p.incarnation == incarnation => peers.remove(name),
                _ => None,
            }
        };
        if let Some(peer) = removed {
            peer.close();
        }
    }

    /// Starts over as a new incarnation of this node: every connection closes (without
    /// a goodbye) and nobody is quarantined any more.
    pub(crate) fn reincarnate(&self, incarnation: u64) {
        self.shared
            .incarnation
            .store(incarnation, std::sync::atomic::Ordering::Release);
        self.shared
            .quarantined
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let peers: Vec<_> = self.shared.peers().drain().map(|(_, p)| p).collect();
        for peer in peers {
            peer.close();
        }
    }

    /// Connections refused and frames dropped from quarantined incarnations.
    pub(crate) fn quarantine_drops(&self) -> u64 {
        self.shared
            .quarantine_drops
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Says goodbye on every open connection and closes them all (a graceful leave),
    /// waiting up to `limit` for the goodbyes to be written.
    pub(crate) async fn leave(&self, limit: Duration) {
        let peers = self.close_all();
        for peer in peers {
            peer.closed(limit).await;
        }
    }

    /// [`leave`](Self::leave) without waiting.
    pub(crate) fn close_all(&self) -> Vec<Arc<Peer>> {
        self.listener.abort();
        let peers: Vec<_> = self.shared.peers().drain().map(|(_, p)| p).collect();
        for peer in &peers {
            if peer.is_connected() {
                let mut goodbye = Vec::new();
                Control::Goodbye.encode(&mut goodbye);
                peer.send_frame(goodbye);
            }
            peer.close();
        }
        peers
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl Shared {
    pub(crate) fn is_quarantined(&self, name: &str, incarnation: u64) -> bool {
        self.quarantined
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&(name.to_string(), incarnation))
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Peer>>> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The peer for (`name`, `incarnation`); a newer incarnation replaces an older one,
    /// which is closed and reported lost.
    fn peer(
        self: &Arc<Self>,
        name: &str,
        incarnation: u64,
        addr: Option<SocketAddr>,
    ) -> Option<Arc<Peer>> {
        if self.is_quarantined(name, incarnation) {
            return None;
        }
        let (peer, replaced) = {
            let mut peers = self.peers();
            match peers.get(name) {
                Some(p) if p.incarnation == incarnation => return Some(p.clone()),
                Some(p) if p.incarnation > incarnation => return None,
                _ => {}
            }
            let peer = Peer::start(self, name.to_string(), incarnation, addr);
            let replaced = peers.insert(name.to_string(), peer.clone());
            (peer, replaced)
        };
        if let Some(old) = replaced {
            old.close();
            self.handler.lost(&old, Lost::Replaced);
        }
        Some(peer)
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((tcp, from)) => {
                let _ = tcp.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    let timeout = shared.settings.connect_timeout;
                    match tokio::time::timeout(timeout, accept(tcp, &shared)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(why)) => tracing::warn!(target: "ensemble::cluster", %from,
                            reason = %why, "refused a connection"),
                        Err(_) => tracing::warn!(target: "ensemble::cluster", %from,
                            "refused a connection: handshake timed out"),
                    }
                });
            }
            Err(e) => {
                tracing::warn!(target: "ensemble::cluster", error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The accepting side of the handshake: TLS (the client's certificate is checked against
/// the CA), then its Hello, whose name the certificate must carry, then ours.
async fn accept(tcp: TcpStream, shared: &Arc<Shared>) -> Result<(), String> {
    let tls = shared
        .acceptor
        .accept(tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let certificate = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .cloned()
        .ok_or("no client certificate")?;
    let mut stream = TlsStream::from(tls);
    let (name, incarnation) = read_hello(&mut stream, shared.settings.max_frame).await?;
    tls::names(&certificate, &name)
        .map_err(|why| format!("a peer claiming to be {name:?}: {why}"))?;
    if name == shared.settings.name {
        return Err("a connection from a node with this node's own name".into());
    }
    if !shared.faults.link(&name, false) {
        return Err(format!("{name} is cut off by the fault layer"));
    }
    if shared.is_quarantined(&name, incarnation) {
        shared
            .quarantine_drops
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(format!(
            "{name} incarnation {incarnation} was declared down; it must restart to rejoin"
        ));
    }
    let peer = shared
        .peer(&name, incarnation, None)
        .ok_or_else(|| format!("{name} incarnation {incarnation} is older than the one known"))?;
    // Decided before our hello, so a refused dialer never thinks it is connected.
    if !peer.may_adopt(&shared.settings.name) {
        return Err("both sides dialed at once; keeping ours (our name is smaller)".into());
    }
    send_hello(&mut stream, shared).await?;
    let conn = peer::Connection {
        stream: Box::new(stream),
        dialed: false,
    };
    peer.adopt(conn)
        .map_err(|_| "the peer closed meanwhile".to_string())
}

/// Writes our Hello frame.
pub(crate) async fn send_hello(stream: &mut TlsStream, shared: &Shared) -> Result<(), String> {
    let mut buf = Vec::new();
    frame::write(&mut buf, |body| {
        Control::Hello {
            name: &shared.settings.name,
            incarnation: shared
                .incarnation
                .load(std::sync::atomic::Ordering::Acquire),
        }
        .encode(body)
    });
    stream.write_all(&buf).await.map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())
}

/// Reads the peer's Hello frame, byte-exact (nothing after it is consumed).
pub(crate) async fn read_hello(
    stream: &mut TlsStream,
    max: usize,
) -> Result<(String, u64), String> {
    let mut prefix = [0u8; frame::PREFIX];
    stream
        .read_exact(&mut prefix)
        .await
        .map_err(|e| format!("reading the peer's hello: {e}"))?;
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max.min(1024) || len == 0 {
        return Err(format!("a hello of {len} bytes"));
    }
    let mut body = vec![0; len];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| format!("reading the peer's hello: {e}"))?;
    match Control::decode(&body) {
        Some(Control::Hello { name, incarnation }) => Ok((name.to_string(), incarnation)),
        _ => Err("the first frame was not a hello".into()),
    }
}
