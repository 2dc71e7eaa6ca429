//! The error types of the messaging and spawning APIs.
//!
//! None of them require the message type to implement `Debug`, and every one is
//! `std::error::Error + Send + Sync + 'static` whenever the message it hands back is
//! `Send + Sync + 'static`, so `?` works in handlers (into [`ActorProcessingErr`]) and in
//! `main` (into `Box<dyn Error>`).

use std::fmt;
use std::time::Duration;

use crate::ActorProcessingErr;

/// A message could not be put in a mailbox. The message is handed back inside.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, SendError};
/// struct Echo;
/// impl Actor for Echo {
///     type Msg = String;
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<String>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
/// }
/// let (actor, handle) = Actor::spawn(None, Echo, ()).await.unwrap();
/// actor.stop(None);
/// handle.await.unwrap();
/// match actor.cast("hello".to_string()) {
///     Err(SendError::Closed(msg)) => assert_eq!(msg, "hello"),
///     other => panic!("unexpected {other:?}"),
/// }
/// # }
/// ```
#[non_exhaustive]
pub enum SendError<M> {
    /// The receiver has ended, or is draining or stopping, and accepts no more messages.
    /// (From [`RpcReplyPort::send`](crate::RpcReplyPort::send): the caller has gone.)
    Closed(M),
    /// The receiver's mailbox is bounded and full.
    Full(M),
    /// The receiver does not take messages of this type (possible only through an untyped
    /// [`ActorCell`](crate::ActorCell), e.g. [`ActorCell::send_message`](crate::ActorCell::send_message)).
    WrongType(M),
}

impl<M> SendError<M> {
    /// Takes the undelivered message back.
    pub fn into_inner(self) -> M {
        match self {
            SendError::Closed(m) | SendError::Full(m) | SendError::WrongType(m) => m,
        }
    }

    /// Whether the receiver has ended.
    pub fn is_closed(&self) -> bool {
        matches!(self, SendError::Closed(_))
    }

    /// Whether the receiver's mailbox was full.
    pub fn is_full(&self) -> bool {
        matches!(self, SendError::Full(_))
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed(_) => f.write_str("Closed(..)"),
            SendError::Full(_) => f.write_str("Full(..)"),
            SendError::WrongType(_) => f.write_str("WrongType(..)"),
        }
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Closed(_) => f.write_str(
                "the receiver has ended or no longer accepts messages (it is draining or stopping)",
            ),
            SendError::Full(_) => {
                f.write_str("the receiving actor's mailbox is full; retry later or wait for room")
            }
            SendError::WrongType(_) => write!(
                f,
                "the receiving actor does not take messages of type `{}`",
                std::any::type_name::<M>()
            ),
        }
    }
}

impl<M> std::error::Error for SendError<M> {}

impl<M> PartialEq for SendError<M>
where
    M: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SendError::Closed(a), SendError::Closed(b)) => a == b,
            (SendError::Full(a), SendError::Full(b)) => a == b,
            (SendError::WrongType(a), SendError::WrongType(b)) => a == b,
            _ => false,
        }
    }
}

/// A request-response [`call`](crate::ActorRef::call) did not produce a reply.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, CallError, RpcReplyPort};
/// struct Forgetful;
/// impl Actor for Forgetful {
///     type Msg = RpcReplyPort<u32>;
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
///     async fn handle(&self, _: ActorRef<Self::Msg>, port: Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
///         drop(port); // never replies
///         Ok(())
///     }
/// }
/// let (actor, _) = Actor::spawn(None, Forgetful, ()).await.unwrap();
/// let err = actor.call(|port| port, Some(Duration::from_secs(5))).await.unwrap_err();
/// assert!(matches!(err, CallError::ReplyDropped));
/// # }
/// ```
#[non_exhaustive]
pub enum CallError<M> {
    /// The request could not be delivered; the request message is inside.
    Send(SendError<M>),
    /// No reply arrived within the timeout. A late reply is dropped quietly.
    Timeout,
    /// The actor dropped the reply port without replying (or ended before handling the
    /// request).
    ReplyDropped,
    /// A call to an actor on another node failed for a reason only a remote call has
    /// (see [`RemoteError`]). Local calls never return it.
    Remote(RemoteError),
}

impl<M> CallError<M> {
    /// The undelivered request, when the call failed before delivery.
    pub fn into_message(self) -> Option<M> {
        match self {
            CallError::Send(e) => Some(e.into_inner()),
            _ => None,
        }
    }
}

impl<M> From<SendError<M>> for CallError<M> {
    fn from(e: SendError<M>) -> Self {
        CallError::Send(e)
    }
}

impl<M> fmt::Debug for CallError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Send(e) => f.debug_tuple("Send").field(e).finish(),
            CallError::Timeout => f.write_str("Timeout"),
            CallError::ReplyDropped => f.write_str("ReplyDropped"),
            CallError::Remote(e) => f.debug_tuple("Remote").field(e).finish(),
        }
    }
}

impl<M> fmt::Display for CallError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Send(e) => write!(f, "call not delivered: {e}"),
            CallError::Timeout => f.write_str("call timed out before the actor replied"),
            CallError::ReplyDropped => {
                f.write_str("the actor dropped the reply port without replying")
            }
            CallError::Remote(e) => write!(f, "remote call failed: {e}"),
        }
    }
}

impl<M> std::error::Error for CallError<M> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::Remote(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a call to an actor on another node failed, beyond what a local call can tell
/// ([`CallError::Remote`]). Every remote call ends exactly once: with the reply,
/// `CallError::Timeout`, `CallError::ReplyDropped`, a refusal to queue it
/// (`CallError::Send`), or one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteError {
    /// The target's node left the cluster or was declared down before the reply came; a
    /// request already delivered may still have run (delivery is at most once).
    NodeDown {
        /// The node's name.
        node: String,
    },
    /// No connection to the target's node could be made.
    Unreachable {
        /// The node's name.
        node: String,
    },
    /// The connection to the target's node was lost while the call was in flight (the
    /// node may still be up; the request may have run).
    ConnectionLost {
        /// The node's name.
        node: String,
    },
    /// The target actor's bounded mailbox was full.
    MailboxFull,
    /// The target actor does not exist on its node (it has ended).
    NoActor,
    /// The request or its reply could not be decoded (a type that changed on one side,
    /// or a corrupt payload); the text says which and why.
    Decode(String),
    /// The request or its reply could not be encoded; the text says why.
    Encode(String),
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::NodeDown { node } => write!(
                f,
                "node {node:?} went down before replying (the request may have run)"
            ),
            RemoteError::Unreachable { node } => {
                write!(
                    f,
                    "node {node:?} is unreachable: no connection could be made"
                )
            }
            RemoteError::ConnectionLost { node } => write!(
                f,
                "the connection to node {node:?} was lost with the call in flight (it may have run)"
            ),
            RemoteError::MailboxFull => f.write_str("the remote actor's mailbox is full"),
            RemoteError::NoActor => f.write_str("no such actor on its node (it has ended)"),
            RemoteError::Decode(why) => write!(f, "could not decode: {why}"),
            RemoteError::Encode(why) => write!(f, "could not encode: {why}"),
        }
    }
}

impl std::error::Error for RemoteError {}

/// An actor could not be spawned.
#[non_exhaustive]
pub enum SpawnError {
    /// `pre_start` returned an error, panicked, or the actor was killed while starting.
    /// Its name, if any, is free again.
    StartupFailed(ActorProcessingErr),
    /// Another live actor already holds this name; it was left untouched.
    AlreadyRegistered(String),
}

impl fmt::Debug for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::StartupFailed(e) => f.debug_tuple("StartupFailed").field(e).finish(),
            SpawnError::AlreadyRegistered(n) => {
                f.debug_tuple("AlreadyRegistered").field(n).finish()
            }
        }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::StartupFailed(e) => write!(f, "actor failed to start: {e}"),
            SpawnError::AlreadyRegistered(n) => write!(
                f,
                "the name {n:?} is held by a live actor; pick another name or stop that actor first"
            ),
        }
    }
}

impl std::error::Error for SpawnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpawnError::StartupFailed(e) => Some(&**e),
            SpawnError::AlreadyRegistered(_) => None,
        }
    }
}

/// An actor did not end within the time given to a `*_and_wait` method.
///
/// The stop or kill signal was still delivered; the actor may end later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeout(pub Duration);

impl fmt::Display for WaitTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the actor had not ended after {:?}; it is still shutting down",
            self.0
        )
    }
}

impl std::error::Error for WaitTimeout {}

/// The error an actor fails with when one of its hooks panics. Its text carries the
/// panic message.
#[derive(Debug)]
pub(crate) struct Panicked {
    pub(crate) hook: &'static str,
    pub(crate) message: String,
}

impl Panicked {
    pub(crate) fn from_payload(hook: &'static str, payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = match payload.downcast::<String>() {
            Ok(s) => *s,
            Err(payload) => match payload.downcast::<&'static str>() {
                Ok(s) => (*s).to_string(),
                Err(_) => "non-string panic payload".to_string(),
            },
        };
        Panicked { hook, message }
    }
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "panicked in {}: {}", self.hook, self.message)
    }
}

impl std::error::Error for Panicked {}

/// A plain text error, for internal reasons such as "killed during startup".
#[derive(Debug)]
pub(crate) struct Reason(pub(crate) String);

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Reason {}
