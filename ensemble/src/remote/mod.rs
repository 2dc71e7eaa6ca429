//! The runtime's side of actors on other nodes (feature `remote`, which
//! [`ensemble-cluster`](https://docs.rs/ensemble-cluster) turns on).
//!
//! A remote actor is reached through an ordinary [`ActorRef<M>`](crate::ActorRef): a
//! *proxy*, a local actor with the remote actor's [`ActorId`] whose handler encodes each
//! message and hands it to the cluster's writer for that node. `cast`, `call`, `send` and
//! `stop` therefore work unchanged, and the local path pays nothing for it. What must be
//! generic over the message type lives here (encoding, decoding, typed proxies, the serde
//! impls of `ActorRef` and `RpcReplyPort`); everything about the network (membership,
//! connections, frames, names) is the cluster's, behind the [`WireContext`] it
//! implements.
//!
//! Message types opt in with `#[derive(RemoteMessage)]` (with serde's `Serialize` and
//! `Deserialize`), which gives them a stable wire name and moves their reply ports out
//! before encoding:
//!
//! ```
//! use ensemble::remote::RemoteMessage;
//! use ensemble::{ActorRef, RpcReplyPort};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, RemoteMessage)]
//! #[remote(name = "counter.v1")]
//! enum CounterMsg {
//!     Add(u64),
//!     Get(RpcReplyPort<u64>),
//!     Subscribe(ActorRef<CounterMsg>), // refs travel and resolve again on their node
//! }
//! assert_eq!(CounterMsg::WIRE_NAME, "counter.v1");
//! ```
//!
//! Payloads are MessagePack with structs as maps ([`encode`], [`decode`]), so a field
//! added on one side is ignored by an older reader, and a missing field with
//! `#[serde(default)]` is filled in.

mod proxy;
mod serde_impls;

/// A message type no actor handles: the type of the proxies that only carry supervision
/// (a remote watcher or parent whose own message type this node does not know).
#[derive(serde::Serialize, serde::Deserialize)]
pub enum EventsOnly {}

impl RemoteMessage for EventsOnly {
    const WIRE_NAME: &'static str = "ensemble.events";
}

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

pub use ensemble_macros::RemoteMessage;
pub use proxy::{ProxyTarget, proxy_factory};

use crate::{
    ActorCell, ActorId, ActorRef, ExitReason, RemoteError, RpcReplyPort, SupervisionEvent,
};

/// A message type that can travel to actors on other nodes.
///
/// Derive it: `#[derive(Serialize, Deserialize, RemoteMessage)]`, with
/// `#[remote(name = "...")]` to choose the wire name (default: the type's name). The name
/// is what the receiving node checks, so two nodes agree on a type by its name and its
/// fields, never by `std::any::type_name`. Reply ports must be direct fields of a variant
/// (or of the struct) for the derive to find them; `ActorRef<N>` fields (with `N:
/// RemoteMessage`) may be anywhere.
pub trait RemoteMessage: Serialize + DeserializeOwned + Send + 'static {
    /// The stable name this type travels under.
    const WIRE_NAME: &'static str;

    /// Moves every reply port out of the message into `ports`, leaving placeholders that
    /// encode as tokens. The derive writes it; a type without ports keeps the default.
    #[doc(hidden)]
    fn take_reply_ports(&mut self, ports: &mut ReplyPorts) {
        let _ = ports;
    }
}

/// How an actor is named on the wire: its node (name and incarnation), its id there, and
/// the wire name of its message type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct WireRef {
    /// The node's name.
    #[serde(rename = "n")]
    pub node: String,
    /// The node's incarnation.
    #[serde(rename = "i")]
    pub incarnation: u64,
    /// The actor's id on its node ([`ActorId::local`](crate::ActorId::local)).
    #[serde(rename = "a")]
    pub actor: u64,
    /// The wire name of the actor's message type.
    #[serde(rename = "w")]
    pub wire_name: String,
}

/// What the cluster provides while messages are encoded and decoded: how to name a local
/// actor on the wire, how to reach a remote one, and where replies go.
pub trait WireContext: Send + Sync + 'static {
    /// Names `actor` on the wire. A local actor is made reachable (its messages will be
    /// decoded as `M` by `export`); a proxy names the remote actor it stands for.
    fn export(&self, actor: &ActorCell, export: Box<dyn Exported>) -> Result<WireRef, String>;

    /// A ref for `wire`: the local actor if `wire` is on this node, else a proxy made by
    /// `proxy` (or the one already made).
    fn import(
        &self,
        wire: &WireRef,
        proxy: fn(ProxyTarget) -> ActorCell,
    ) -> Result<ActorCell, String>;

    /// Where the reply to the request carrying `token` goes.
    fn reply_sink(&self, token: u64) -> Result<Box<dyn ReplySink>, String>;

    /// Called with `true` right before a decoded request is handed to its actor, and with
    /// `false` if the actor refused it (before the request, with its reply ports, is
    /// dropped). Reply sinks dropped while not armed should stay silent: the cluster
    /// answers the caller itself with the reason.
    fn delivering(&self, armed: bool) {
        let _ = armed;
    }

    /// Sends a supervision signal ([`Outgoing::Down`] or [`Outgoing::Exit`]) about the
    /// remote actor `to` on the node's signal path, in order with the links and monitors
    /// made there (messages travel apart). `Err` hands it back for the proxy's own queue.
    fn signal(&self, to: ActorId, signal: Outgoing) -> Result<(), Outgoing> {
        let _ = to;
        Err(signal)
    }
}

/// A local actor reachable from other nodes: delivers decoded messages to it.
pub trait Exported: Send + Sync + 'static {
    /// Decodes `payload` as the actor's message type and casts it to the actor.
    fn deliver(&self, payload: &[u8], context: &Arc<dyn WireContext>) -> Result<(), Delivery>;

    /// The actor.
    fn cell(&self) -> ActorCell;

    /// Whether the actor has not ended.
    fn is_alive(&self) -> bool;

    /// The wire name of its message type.
    fn wire_name(&self) -> &'static str;
}

/// Why a message from another node could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The payload did not decode as the actor's message type.
    Decode(String),
    /// The actor has ended (or is draining or stopping).
    Closed,
    /// The actor's bounded mailbox is full.
    Full,
}

/// The typed export of a local `ActorRef<M>`.
struct Export<M>(ActorRef<M>);

impl<M: RemoteMessage> Exported for Export<M> {
    fn deliver(&self, payload: &[u8], context: &Arc<dyn WireContext>) -> Result<(), Delivery> {
        let msg: M = with_context(context, || decode(payload)).map_err(Delivery::Decode)?;
        context.delivering(true);
        self.0.cast(msg).map_err(|e| {
            context.delivering(false);
            match e {
                crate::SendError::Full(_) => Delivery::Full,
                _ => Delivery::Closed,
            }
        })
    }

    fn cell(&self) -> ActorCell {
        self.0.cell()
    }

    fn is_alive(&self) -> bool {
        self.0.status().is_alive()
    }

    fn wire_name(&self) -> &'static str {
        M::WIRE_NAME
    }
}

/// Makes `actor` deliverable from other nodes (for the cluster's registry and groups).
pub fn export<M: RemoteMessage>(actor: &ActorRef<M>) -> Box<dyn Exported> {
    Box::new(Export(actor.clone()))
}

/// Where the reply to one remote request goes (the cluster's side of a reply port that
/// arrived in a request). Dropped without a reply, it tells the caller so.
pub trait ReplySink: Send + Sync + 'static {
    /// Sends the encoded reply, or the reason there is none.
    fn reply(self: Box<Self>, reply: Result<Vec<u8>, RemoteError>);

    /// The context to encode the reply in (it may contain actor refs).
    fn context(&self) -> Arc<dyn WireContext>;

    /// When the caller stops waiting, if it gave a timeout.
    fn deadline(&self) -> Option<Instant>;
}

/// A reply port's way back to another node (inside [`RpcReplyPort`]).
pub(crate) trait RemoteReply<T>: Send + Sync {
    fn send(self: Box<Self>, value: T) -> Result<(), T>;
}

struct SinkReply<T> {
    sink: Box<dyn ReplySink>,
    _reply: std::marker::PhantomData<fn(T)>,
}

impl<T: Serialize + Send + 'static> RemoteReply<T> for SinkReply<T> {
    fn send(self: Box<Self>, value: T) -> Result<(), T> {
        let context = self.sink.context();
        let encoded = with_context(&context, || encode(&value)).map_err(RemoteError::Encode);
        self.sink.reply(encoded);
        Ok(())
    }
}

/// A reply port that arrived in a request from another node.
pub(crate) fn remote_port<T: Serialize + Send + 'static>(
    sink: Box<dyn ReplySink>,
) -> RpcReplyPort<T> {
    let deadline = sink.deadline();
    let reply: Box<dyn RemoteReply<T>> = Box::new(SinkReply {
        sink,
        _reply: std::marker::PhantomData,
    });
    RpcReplyPort::from_port(crate::rpc::Port::Remote(Box::new(crate::rpc::RemotePort {
        reply,
        deadline,
    })))
}

/// Reply ports moved out of a message before it is encoded (see
/// [`RemoteMessage::take_reply_ports`]).
#[derive(Default)]
pub struct ReplyPorts {
    taken: Vec<TakenPort>,
}

/// One reply port moved out of a request: its token on the wire and the port itself,
/// waiting for the reply.
pub struct TakenPort {
    /// The token the request carries in the port's place.
    pub token: u64,
    /// When the caller stops waiting.
    pub deadline: Option<Instant>,
    /// The port.
    pub pending: Box<dyn PendingReply>,
}

/// Tokens are unique in the process, so a node's table of pending replies never mixes
/// two calls up.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

impl ReplyPorts {
    /// Moves `port` out, leaving a placeholder token (the derive calls this for each
    /// reply-port field).
    pub fn take<T: DeserializeOwned + Send + 'static>(&mut self, port: &mut RpcReplyPort<T>) {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        let real = port.take_for_token(token);
        self.taken.push(TakenPort {
            token,
            deadline: real.deadline(),
            pending: Box::new(PendingPort(real)),
        });
    }

    /// The ports taken, in field order.
    pub fn into_taken(self) -> Vec<TakenPort> {
        self.taken
    }
}

/// A reply port waiting for its reply from another node.
pub trait PendingReply: Send + 'static {
    /// Completes the call with the reply's payload (decoded here, in `context`) or with
    /// the reason there is none.
    fn complete(self: Box<Self>, reply: Result<&[u8], RemoteError>, context: &Arc<dyn WireContext>);
}

struct PendingPort<T>(RpcReplyPort<T>);

impl<T: DeserializeOwned + Send + 'static> PendingReply for PendingPort<T> {
    fn complete(
        self: Box<Self>,
        reply: Result<&[u8], RemoteError>,
        context: &Arc<dyn WireContext>,
    ) {
        let port = self.0;
        match reply.and_then(|bytes| {
            with_context(context, || decode::<T>(bytes)).map_err(RemoteError::Decode)
        }) {
            Ok(value) => {
                let _ = port.send(value);
            }
            Err(error) => port.fail(error),
        }
    }
}

/// What the runtime asks of the node serving remote actors: monitors and links that
/// involve an actor on another node. The cluster implements it and installs it with
/// [`ActorSystem::set_distribution`](crate::ActorSystem::set_distribution).
pub trait Distribution: Send + Sync + 'static {
    /// `watcher` (local) monitors `target` (remote): exactly one `ActorDown` must follow,
    /// with the target's exit reason or `NoConnection`, unless it is demonitored.
    fn monitor(&self, watcher: &ActorCell, target: &ActorCell);
    /// Undoes [`monitor`](Self::monitor).
    fn demonitor(&self, watcher: &ActorCell, target: &ActorCell);
    /// `child` was linked to `parent` here, one of them remote: mirror the link on the
    /// other node.
    fn link(&self, child: &ActorCell, parent: &ActorCell);
    /// Undoes [`link`](Self::link).
    fn unlink(&self, child: &ActorCell, parent: &ActorCell);
}

/// The node serving remote actors for a monitor or link between `a` and `b`, if one of
/// them is remote (and its system has one).
pub(crate) fn distribution_for(a: &ActorCell, b: &ActorCell) -> Option<Arc<dyn Distribution>> {
    [a, b]
        .into_iter()
        .find(|c| !c.id().is_local())
        .and_then(|c| c.header().system.distribution())
}

/// Tells `watcher` that `target` is down (a remote monitor fired).
pub fn deliver_down(watcher: &ActorCell, target: ActorCell, reason: ExitReason) {
    watcher.header().forget_watched(target.id());
    let _ = watcher.send_event(SupervisionEvent::ActorDown(target, reason));
}

/// Tells `parent` that its (remote) child `child` started.
pub fn deliver_started(parent: &ActorCell, child: ActorCell) {
    let _ = parent.send_event(SupervisionEvent::ActorStarted(child));
}

/// Links `child` to `parent` on this node only (the cluster mirroring a link made on
/// another node: it must not be sent back).
pub fn link_here(child: &ActorCell, parent: &ActorCell) {
    if child.id().is_local() || parent.id().is_local() {
        let _serial = crate::cell::LINKING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut links = child.header().links();
        if !links.is_detached() && parent.header().adopt(child.clone()) {
            links.set_supervisor(parent.clone());
        }
    }
}

/// Undoes [`link_here`].
pub fn unlink_here(child: &ActorCell, parent: &ActorCell) {
    let mut links = child.header().links();
    if links.supervisor_is(parent) {
        links.clear_supervisor();
        drop(links);
        parent.header().remove_child(child.id());
    }
}

/// How a remote child ended, as its parent's node is told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ChildExit {
    /// It started (its parent hears `ActorStarted`).
    Started,
    /// It failed, with this text.
    Failed(String),
    /// It stopped, with this reason.
    Stopped(Option<String>),
    /// It was killed.
    Killed,
}

/// The error a proxy fails with when the actor it stands for failed, or when its node is
/// lost: what a remote child's parent hears in `ActorFailed`.
#[derive(Debug, Clone)]
pub struct RemoteExit {
    /// The node the actor was on.
    pub node: String,
    /// Why it ended: `Failed(text)`, or `NoConnection` when the node was lost.
    pub reason: ExitReason,
}

impl std::fmt::Display for RemoteExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.reason {
            ExitReason::NoConnection => write!(f, "no connection to node {}", self.node),
            ExitReason::Failed(text) => write!(f, "{text} (on node {})", self.node),
            other => write!(f, "{other} (on node {})", self.node),
        }
    }
}

impl std::error::Error for RemoteExit {}

/// What the cluster controls of a proxy it made.
#[derive(Debug, Default)]
pub struct ProxyControl {
    /// Set before the cluster ends the proxy itself (node down, the remote actor ended):
    /// its end is not forwarded to the remote actor as a stop.
    quiet: std::sync::atomic::AtomicBool,
}

impl ProxyControl {
    /// From now on the proxy's end is not forwarded.
    pub fn set_quiet(&self) {
        self.quiet.store(true, Ordering::Release);
    }

    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet.load(Ordering::Acquire)
    }
}

/// Ends `proxy` as a failure for `reason` (`Failed(text)` of the remote actor, or
/// `NoConnection`), so that a parent it is linked to hears `ActorFailed` with a
/// [`RemoteExit`], and its own children stop. New messages are refused at once.
pub fn fail_proxy(proxy: &ActorCell, control: &ProxyControl, reason: ExitReason) {
    control.set_quiet();
    let _ = proxy.drain();
    let _ = proxy.send_event(SupervisionEvent::ActorDown(proxy.clone(), reason));
}

/// What a proxy hands the cluster's writer for its node.
#[non_exhaustive]
pub enum Outgoing {
    /// A message (a call if it carries reply ports) for actor `target` on that node.
    Message {
        /// The target's id on its node.
        target: u64,
        /// The wire name of its message type.
        wire_name: &'static str,
        /// The encoded message.
        payload: Vec<u8>,
        /// Its reply ports, waiting for their replies.
        replies: Vec<TakenPort>,
    },
    /// `stop` was called on a proxy: stop the actor it stands for.
    Stop {
        /// The target's id on its node.
        target: u64,
    },
    /// A local actor that the remote actor `watcher` monitors has ended.
    Down {
        /// The watcher's id on its node.
        watcher: u64,
        /// The local actor's id.
        target: u64,
        /// Why it ended.
        reason: ExitReason,
    },
    /// A local child of the remote actor `parent` started or ended.
    Exit {
        /// The parent's id on its node.
        parent: u64,
        /// The local child's id.
        child: u64,
        /// What happened.
        exit: ChildExit,
    },
}

impl Outgoing {
    /// Ends every call in this message with `error` (it will not be sent).
    pub fn fail(self, error: RemoteError, context: &Arc<dyn WireContext>) {
        if let Outgoing::Message { replies, .. } = self {
            for taken in replies {
                taken.pending.complete(Err(error.clone()), context);
            }
        }
    }
}

thread_local! {
    /// The cluster's context for the encoding or decoding under way on this thread.
    static CONTEXT: RefCell<Option<Arc<dyn WireContext>>> = const { RefCell::new(None) };
}

/// Runs `f` (an encode or a decode) with `context` as the one actor refs and reply ports
/// are named in.
pub fn with_context<R>(context: &Arc<dyn WireContext>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<dyn WireContext>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CONTEXT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CONTEXT.with(|c| c.borrow_mut().replace(context.clone()));
    let _restore = Restore(previous);
    f()
}

pub(crate) fn current_context() -> Option<Arc<dyn WireContext>> {
    CONTEXT.with(|c| c.borrow().clone())
}

/// Encodes a value as MessagePack with structs as maps (field names included, so that
/// readers tolerate added fields).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    encode_sized(value, 0)
}

/// [`encode`] into a buffer of `capacity` bytes to start with (a guess at the size saves
/// the copies of growing it).
pub fn encode_sized<T: Serialize + ?Sized>(value: &T, capacity: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(capacity);
    rmp_serde::encode::write_named(&mut out, value).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Decodes MessagePack written by [`encode`]. Never panics on bad input.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    rmp_serde::from_slice(bytes).map_err(|e| e.to_string())
}

/// An error's text with its sources (`outer: inner: ...`), as supervision events and
/// remote exits carry it.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    crate::runtime::error_text(err)
}

/// Whether `a` and `b` are the same actor object, not only the same id: a remote actor
/// may have several proxies (one per message type), all with its id.
pub fn same_cell(a: &ActorCell, b: &ActorCell) -> bool {
    Arc::ptr_eq(&a.0, &b.0)
}
