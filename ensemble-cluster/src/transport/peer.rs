//! One remote node as the transport sees it: its queues, and the task that keeps one
//! connection to it (dialing lazily, reconnecting with backoff, adopting connections it
//! dials to us) and writes batches of frames on it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ensemble::remote::Outgoing;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, watch};

use super::control::Control;
use super::frame::{self, FrameBuffer};
use super::{Shared, TlsStream};

/// A writer gathers what is queued into one write of up to this many bytes.
const BATCH: usize = 256 * 1024;

/// Why the connection to a peer went away, as told to the layers above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lost {
    /// The connection closed or failed; the transport is reconnecting.
    Closed,
    /// Reconnecting right after a loss was refused: nothing listens at the peer's address
    /// any more, so the process is gone (a crash, a kill).
    Refused,
    /// A newer incarnation of the node answered: this one is gone.
    Replaced,
}

/// What a peer's writer sends: a message from a proxy (encoded by the layer above in the
/// writer task), or a frame body already encoded (replies).
pub(crate) enum Item {
    Message(Outgoing),
    Frame(Vec<u8>),
}

/// One established connection, after the handshake.
pub(crate) struct Connection {
    /// Boxed: a TLS stream is over a kilobyte, and connections are moved around.
    pub(crate) stream: Box<TlsStream>,
    /// Who dialed: us (`true`) or the peer.
    pub(crate) dialed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Dialing,
    Connected,
}

/// A remote node, by name and incarnation.
pub(crate) struct Peer {
    pub(crate) name: String,
    pub(crate) incarnation: u64,
    /// Where to dial it (from membership).
    addr: Mutex<Option<SocketAddr>>,
    /// Messages from proxies (bounded: the backpressure point).
    pub(crate) data: mpsc::Sender<Outgoing>,
    /// Frames that must not wait behind messages or be refused: replies, goodbyes.
    frames: mpsc::UnboundedSender<Vec<u8>>,
    /// Connections it dialed to us, adopted.
    inbound: mpsc::UnboundedSender<Connection>,
    state: Mutex<State>,
    stop: watch::Sender<bool>,
    /// Set by `close` (read per frame, so an atomic rather than the watch).
    closed: std::sync::atomic::AtomicBool,
    /// The peer's task, to wait for on a graceful leave.
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Frames written and read, for stats.
    pub(crate) frames_out: AtomicU64,
    pub(crate) frames_in: AtomicU64,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Peer({}#{})", self.name, self.incarnation)
    }
}

impl Peer {
    /// A peer and the task that serves it.
    pub(crate) fn start(
        shared: &Arc<Shared>,
        name: String,
        incarnation: u64,
        addr: Option<SocketAddr>,
    ) -> Arc<Peer> {
        let (data, data_rx) = mpsc::channel(shared.settings.peer_queue);
        let (frames, frames_rx) = mpsc::unbounded_channel();
        let (inbound, inbound_rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let peer = Arc::new(Peer {
            name,
            incarnation,
            addr: Mutex::new(addr),
            data,
            frames,
            inbound,
            state: Mutex::new(State::Idle),
            stop,
            closed: std::sync::atomic::AtomicBool::new(false),
            task: Mutex::new(None),
            frames_out: AtomicU64::new(0),
            frames_in: AtomicU64::new(0),
        });
        let task = PeerTask {
            peer: peer.clone(),
            shared: shared.clone(),
            data: data_rx,
            frames: frames_rx,
            inbound: inbound_rx,
            stop: stop_rx,
        };
        let handle = tokio::spawn(task.run());
        *peer.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        peer
    }

    /// Waits (up to `limit`) until the peer's task has ended, after [`close`](Self::close):
    /// what it had queued is written by then.
    pub(crate) async fn closed(&self, limit: Duration) {
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = tokio::time::timeout(limit, task).await;
        }
    }

    /// Sets the address to dial (membership learned or changed it).
    pub(crate) fn set_addr(&self, addr: SocketAddr) {
        *self.addr.lock().unwrap_or_else(PoisonError::into_inner) = Some(addr);
    }

    fn addr(&self) -> Option<SocketAddr> {
        *self.addr.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an encoded frame body ahead of messages (never refused while the peer runs).
    pub(crate) fn send_frame(&self, body: Vec<u8>) -> bool {
        self.frames.send(body).is_ok()
    }

    /// Ends the peer: its task writes what is queued on a live connection (so a goodbye
    /// goes out), then closes. Frames still arriving from it are dropped.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let _ = self.stop.send(true);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Whether a connection is up now.
    pub(crate) fn is_connected(&self) -> bool {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) == State::Connected
    }

    /// Whether a connection the peer dialed to us may be adopted: yes, unless both sides
    /// are dialing and ours wins (the one dialed by the node with the smaller name wins,
    /// on both sides).
    pub(crate) fn may_adopt(&self, my_name: &str) -> bool {
        let state = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        !(state == State::Dialing && my_name < self.name.as_str())
    }

    /// Hands an accepted connection to the peer's task.
    pub(crate) fn adopt(&self, conn: Connection) -> Result<(), Connection> {
        self.inbound.send(conn).map_err(|e| e.0)
    }

    fn set_state(&self, state: State) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }
}

/// How one connection ended.
enum Ended {
    /// It failed or closed.
    Lost(String),
    /// The peer dialed a new one, which replaces it.
    Replaced(Connection),
    /// The peer is closing.
    Stopped,
}

struct PeerTask {
    peer: Arc<Peer>,
    shared: Arc<Shared>,
    data: mpsc::Receiver<Outgoing>,
    frames: mpsc::UnboundedReceiver<Vec<u8>>,
    inbound: mpsc::UnboundedReceiver<Connection>,
    stop: watch::Receiver<bool>,
}

impl PeerTask {
    async fn run(mut self) {
        let mut adopted: Option<Connection> = None;
        let mut held: Option<Item> = None;
        // Right after a loss, dial at once, and for a second keep retrying quickly: a
        // refusal then (nothing listens any more) tells a crash from a hiccup. The first
        // try may still reach the dying process's socket and be reset.
        let mut probe: Option<tokio::time::Instant> = None;
        let mut backoff = Duration::from_millis(50);
        loop {
            if *self.stop.borrow() {
                break;
            }
            let conn = match adopted.take() {
                Some(conn) => conn,
                None => {
                    let probing = probe.is_some_and(|until| tokio::time::Instant::now() < until);
                    if held.is_none() && !probing {
                        // Lazy: dial only when there is something to send.
                        tokio::select! {
                            item = next_item(&mut self.frames, &mut self.data) => match item {
                                Some(item) => held = Some(item),
                                None => break,
                            },
                            conn = self.inbound.recv() => {
                                adopted = conn;
                                continue;
                            }
                            _ = self.stop.changed() => break,
                        }
                    }
                    self.peer.set_state(State::Dialing);
                    let dialed = tokio::select! {
                        dialed = dial(&self.peer, &self.shared) => dialed,
                        conn = self.inbound.recv() => match conn {
                            Some(conn) => Ok(conn),
                            None => break,
                        },
                        _ = self.stop.changed() => break,
                    };
                    match dialed {
                        Ok(conn) => conn,
                        Err(DialError::Refused(why)) if probing => {
                            self.peer.set_state(State::Idle);
                            tracing::info!(target: "ensemble::cluster", peer = %self.peer.name,
                                error = %why, "reconnecting refused: the node is gone");
                            self.shared.handler.lost(&self.peer, Lost::Refused);
                            probe = None;
                            self.pause(&mut backoff).await;
                            continue;
                        }
                        Err(DialError::Replaced) => {
                            self.peer.set_state(State::Idle);
                            self.shared.handler.lost(&self.peer, Lost::Replaced);
                            break;
                        }
                        Err(e) => {
                            self.peer.set_state(State::Idle);
                            tracing::debug!(target: "ensemble::cluster", peer = %self.peer.name,
                                error = %e, ?backoff, "dial failed; retrying");
                            if probing {
                                backoff = Duration::from_millis(20);
                            }
                            self.pause(&mut backoff).await;
                            continue;
                        }
                    }
                }
            };
            backoff = Duration::from_millis(50);
            probe = None;
            self.peer.set_state(State::Connected);
            tracing::debug!(target: "ensemble::cluster", peer = %self.peer.name,
                dialed = conn.dialed, "connected");
            self.shared.handler.connected(&self.peer);
            match self.serve(conn, &mut held).await {
                Ended::Stopped => break,
                Ended::Replaced(conn) => adopted = Some(conn),
                Ended::Lost(why) => {
                    self.peer.set_state(State::Idle);
                    tracing::debug!(target: "ensemble::cluster", peer = %self.peer.name,
                        error = %why, "connection lost");
                    self.shared.handler.lost(&self.peer, Lost::Closed);
                    probe = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                }
            }
        }
        self.peer.set_state(State::Idle);
        // Messages that will never be written: their calls end now.
        self.data.close();
        let unsent = held.into_iter().filter_map(|item| match item {
            Item::Message(out) => Some(out),
            Item::Frame(_) => None,
        });
        for out in unsent {
            self.shared.handler.undelivered(&self.peer, out);
        }
        while let Ok(out) = self.data.try_recv() {
            self.shared.handler.undelivered(&self.peer, out);
        }
    }

    /// Waits out a backoff (doubling up to 2 s), unless a connection arrives or the peer
    /// closes first.
    async fn pause(&mut self, backoff: &mut Duration) {
        let wait = *backoff;
        *backoff = (*backoff * 2).min(Duration::from_secs(2));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = self.stop.changed() => {}
        }
    }
}

/// Dials `peer`: TCP, TLS (its certificate must name it), then hellos both ways.
async fn dial(peer: &Arc<Peer>, shared: &Arc<Shared>) -> Result<Connection, DialError> {
    {
        let addr = peer
            .addr()
            .ok_or_else(|| DialError::Other("no address known yet".into()))?;
        if !shared.faults.link(&peer.name, true) {
            return Err(DialError::Other("cut off by the fault layer".into()));
        }
        let timeout = shared.settings.connect_timeout;
        let tcp = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Err(_) => return Err(DialError::Other(format!("connecting to {addr} timed out"))),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(DialError::Refused(e.to_string()));
            }
            Ok(Err(e)) => return Err(DialError::Other(e.to_string())),
            Ok(Ok(tcp)) => tcp,
        };
        let _ = tcp.set_nodelay(true);
        let handshake = async {
            let name = super::tls::server_name(&peer.name).map_err(DialError::Other)?;
            let tls = shared
                .connector
                .connect(name, tcp)
                .await
                .map_err(|e| DialError::Other(format!("TLS: {e}")))?;
            let mut stream = TlsStream::from(tls);
            super::send_hello(&mut stream, shared)
                .await
                .map_err(DialError::Other)?;
            let (name, incarnation) = super::read_hello(&mut stream, shared.settings.max_frame)
                .await
                .map_err(DialError::Other)?;
            if name != peer.name {
                return Err(DialError::Other(format!(
                    "dialed {} but {name} answered",
                    peer.name
                )));
            }
            if incarnation != peer.incarnation {
                return Err(if incarnation > peer.incarnation {
                    DialError::Replaced
                } else {
                    DialError::Other("an older incarnation answered".into())
                });
            }
            Ok(Connection {
                stream: Box::new(stream),
                dialed: true,
            })
        };
        match tokio::time::timeout(timeout, handshake).await {
            Ok(result) => result,
            Err(_) => Err(DialError::Other("handshake timed out".into())),
        }
    }
}

impl PeerTask {
    /// Writes on `conn` until it fails, is replaced or the peer closes; reads on a task
    /// of its own.
    async fn serve(&mut self, conn: Connection, held: &mut Option<Item>) -> Ended {
        let (reader, mut writer) = tokio::io::split(conn.stream);
        let dead = Arc::new(Notify::new());
        let reading = tokio::spawn(read_frames(
            reader,
            self.peer.clone(),
            self.shared.clone(),
            dead.clone(),
        ));
        let mut buf = Vec::with_capacity(BATCH);
        let ended = loop {
            let first = match held.take() {
                Some(item) => item,
                None => tokio::select! {
                    biased;
                    _ = dead.notified() => break Ended::Lost("the peer closed the connection".into()),
                    _ = self.stop.changed() => {
                        // Flush what is queued for this peer (a goodbye among it);
                        // the last batch, already written, is not written again.
                        buf.clear();
                        while let Ok(body) = self.frames.try_recv() {
                            frame::write(&mut buf, |b| b.extend_from_slice(&body));
                        }
                        let _ = writer.write_all(&buf).await;
                        let _ = writer.flush().await;
                        let _ = writer.shutdown().await;
                        break Ended::Stopped;
                    }
                    conn = self.inbound.recv() => match conn {
                        Some(conn) => break Ended::Replaced(conn),
                        None => break Ended::Stopped,
                    },
                    () = self.shared.faults.reset_asked(&self.peer.name) => {
                        break Ended::Lost("reset by the fault layer".into());
                    }
                    item = next_item(&mut self.frames, &mut self.data) => match item {
                        Some(item) => item,
                        None => break Ended::Stopped,
                    },
                },
            };
            buf.clear();
            let mut count = 0u64;
            self.encode(first, &mut buf, &mut count);
            // Batch whatever else is waiting, up to BATCH bytes, into the same write.
            while buf.len() < BATCH {
                let next = match self.frames.try_recv() {
                    Ok(body) => Item::Frame(body),
                    Err(_) => match self.data.try_recv() {
                        Ok(out) => Item::Message(out),
                        Err(_) => break,
                    },
                };
                self.encode(next, &mut buf, &mut count);
            }
            if buf.is_empty() {
                continue;
            }
            if let Some(ended) = self.faulty_write().await {
                break ended;
            }
            if let Err(e) = write_all(&mut writer, &buf).await {
                break Ended::Lost(e);
            }
            self.peer.frames_out.fetch_add(count, Ordering::Relaxed);
        };
        reading.abort();
        ended
    }

    /// What the fault layer does to a write: hold it for the delay, stall it while the
    /// peer is cut off; `Some` if the connection ends meanwhile.
    async fn faulty_write(&mut self) -> Option<Ended> {
        let faults = self.shared.faults.clone();
        let delay = faults.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        while !faults.link(&self.peer.name, true) {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
                _ = self.stop.changed() => return Some(Ended::Stopped),
            }
        }
        None
    }

    /// Appends `item` as a frame to `buf` (nothing if the layer above drops it).
    fn encode(&self, item: Item, buf: &mut Vec<u8>, count: &mut u64) {
        // A message the fault layer drops is encoded (its calls wait for replies, as
        // after a real loss) but not written.
        let lost = matches!(item, Item::Message(_)) && self.shared.faults.drop_message();
        let at = buf.len();
        frame::write(buf, |body| match item {
            Item::Frame(bytes) => body.extend_from_slice(&bytes),
            Item::Message(out) => self.shared.handler.encode(&self.peer, out, body),
        });
        if buf.len() == at + frame::PREFIX || lost {
            buf.truncate(at);
        } else {
            *count += 1;
        }
    }
}

async fn write_all(writer: &mut WriteHalf<Box<TlsStream>>, buf: &[u8]) -> Result<(), String> {
    writer.write_all(buf).await.map_err(|e| e.to_string())?;
    writer.flush().await.map_err(|e| e.to_string())
}

/// The next thing to write: frames first, then messages. `None` once both queues are
/// closed (the peer is being dropped).
async fn next_item(
    frames: &mut mpsc::UnboundedReceiver<Vec<u8>>,
    data: &mut mpsc::Receiver<Outgoing>,
) -> Option<Item> {
    tokio::select! {
        biased;
        Some(body) = frames.recv() => Some(Item::Frame(body)),
        Some(out) = data.recv() => Some(Item::Message(out)),
        else => None,
    }
}

/// Reads frames until the connection fails; each goes to the layer above (or, for the
/// transport's own, is handled here). A bad frame closes the connection with a logged
/// reason.
async fn read_frames(
    mut reader: ReadHalf<Box<TlsStream>>,
    peer: Arc<Peer>,
    shared: Arc<Shared>,
    dead: Arc<Notify>,
) {
    let mut buf = FrameBuffer::new(shared.settings.max_frame);
    let why = 'read: loop {
        loop {
            match buf.next_frame() {
                Ok(Some(body)) => {
                    peer.frames_in.fetch_add(1, Ordering::Relaxed);
                    if peer.is_closed() {
                        // Declared down (or leaving): nothing more of it is acted on.
                        shared.quarantine_drops.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    match Control::decode(body) {
                        Some(Control::Goodbye) => shared.handler.goodbye(&peer),
                        Some(Control::Hello { .. }) => {
                            break 'read "a second hello on an open connection".to_string();
                        }
                        None => {
                            if let Err(why) = shared.handler.frame(&peer, body) {
                                break 'read why;
                            }
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => break 'read e.to_string(),
            }
        }
        while !shared.faults.link(&peer.name, false) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        match reader.read_buf(buf.read_target()).await {
            Ok(0) => break "closed by the peer".to_string(),
            Ok(_) => {}
            Err(e) => break e.to_string(),
        }
    };
    tracing::debug!(target: "ensemble::cluster", peer = %peer.name, reason = %why, "reader stopped");
    if why != "closed by the peer" {
        tracing::warn!(target: "ensemble::cluster", peer = %peer.name, reason = %why,
            "closing the connection to a peer");
    }
    dead.notify_one();
}

/// Why a dial failed.
#[derive(Debug)]
enum DialError {
    /// Nothing listens at the address.
    Refused(String),
    /// A newer incarnation of the node answered.
    Replaced,
    /// Anything else (timeouts, TLS, a wrong name): retried with backoff.
    Other(String),
}

impl std::fmt::Display for DialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DialError::Refused(e) => write!(f, "refused: {e}"),
            DialError::Replaced => f.write_str("a newer incarnation answered"),
            DialError::Other(e) => f.write_str(e),
        }
    }
}
