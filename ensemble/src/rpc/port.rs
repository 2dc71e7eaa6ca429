//! The reply half of a request-response call.

use std::fmt;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::{RemoteError, SendError};

/// The port an actor replies through when it handles a [`call`](crate::ActorRef::call).
///
/// It is carried inside the request message, so it is `Debug` for any `T` (message enums
/// that derive `Debug` keep compiling). Replying consumes the port; dropping it without
/// replying makes the caller's `call` return
/// [`CallError::ReplyDropped`](crate::CallError::ReplyDropped) at once.
///
/// [`send`](Self::send) never panics. When the caller has gone it returns
/// [`SendError::Closed`] with the value inside, with one exception: after the caller's
/// timeout has passed, a late reply is dropped quietly and `send` returns `Ok(())`, so a
/// handler written `reply.send(v)?` does not fail because a caller gave up waiting.
///
/// A port in a request from another node (with the cluster) behaves the same: the reply
/// is encoded and sent back to the caller's node.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use ensemble::RpcReplyPort;
/// let (tx, rx) = tokio::sync::oneshot::channel();
/// let port: RpcReplyPort<u8> = tx.into();
/// port.send(7).unwrap();
/// assert_eq!(rx.await.unwrap(), 7);
/// # }
/// ```
pub struct RpcReplyPort<T> {
    tx: Port<T>,
}

/// Where a reply goes. Laid out so that the port stays 24 bytes: the other variants fit
/// beside `Call`'s deadline and take their tags from its niche.
pub(crate) enum Port<T> {
    /// The channel of a [`call`](crate::ActorRef::call), which may also carry the reason
    /// a remote call failed, and the instant the caller stops waiting.
    Call(
        oneshot::Sender<Result<T, Box<RemoteError>>>,
        Option<Instant>,
    ),
    /// A channel the user made (`From<oneshot::Sender<T>>`).
    Plain(oneshot::Sender<T>),
    /// A placeholder left in a request on its way to another node: the real port waits
    /// for the reply under this token.
    #[cfg(feature = "remote")]
    Token(u64),
    /// The reply goes back to another node.
    #[cfg(feature = "remote")]
    Remote(Box<RemotePort<T>>),
}

/// A port whose reply goes to another node.
#[cfg(feature = "remote")]
pub(crate) struct RemotePort<T> {
    pub(crate) reply: Box<dyn crate::remote::RemoteReply<T>>,
    pub(crate) deadline: Option<Instant>,
}

impl<T> RpcReplyPort<T> {
    pub(crate) fn new(
        tx: oneshot::Sender<Result<T, Box<RemoteError>>>,
        deadline: Option<Instant>,
    ) -> Self {
        RpcReplyPort {
            tx: Port::Call(tx, deadline),
        }
    }

    #[cfg(feature = "remote")]
    pub(crate) fn from_port(tx: Port<T>) -> Self {
        RpcReplyPort { tx }
    }

    #[cfg(feature = "remote")]
    pub(crate) fn port(&self) -> &Port<T> {
        &self.tx
    }

    /// Swaps this port for a placeholder `token`, returning the real one.
    #[cfg(feature = "remote")]
    pub(crate) fn take_for_token(&mut self, token: u64) -> RpcReplyPort<T> {
        RpcReplyPort {
            tx: std::mem::replace(&mut self.tx, Port::Token(token)),
        }
    }

    /// Sends the reply.
    ///
    /// `Err(SendError::Closed(value))` when the caller is gone before its timeout (or had
    /// none); `Ok(())` when the reply was delivered or when the caller had already timed
    /// out (the late reply is dropped quietly).
    pub fn send(self, value: T) -> Result<(), SendError<T>> {
        let deadline = self.deadline();
        let refused = match self.tx {
            Port::Plain(tx) => match tx.send(value) {
                Ok(()) => return Ok(()),
                Err(value) => value,
            },
            Port::Call(tx, _) => match tx.send(Ok(value)) {
                Ok(()) => return Ok(()),
                Err(Ok(value)) => value,
                Err(Err(_)) => return Ok(()), // unreachable: we sent Ok
            },
            #[cfg(feature = "remote")]
            Port::Token(_) => value,
            #[cfg(feature = "remote")]
            Port::Remote(remote) => match remote.reply.send(value) {
                Ok(()) => return Ok(()),
                Err(value) => value,
            },
        };
        match deadline {
            Some(deadline) if Instant::now() >= deadline => {
                tracing::trace!("late reply dropped: the caller timed out");
                Ok(())
            }
            _ => Err(SendError::Closed(refused)),
        }
    }

    /// Ends the call with `error` instead of a reply (the cluster's way of saying the
    /// remote side failed). Ports not made by `call` just drop.
    #[cfg(feature = "remote")]
    pub(crate) fn fail(self, error: RemoteError) {
        if let Port::Call(tx, _) = self.tx {
            let _ = tx.send(Err(Box::new(error)));
        }
    }

    /// Whether the caller has stopped waiting (timed out or dropped its call).
    pub fn is_closed(&self) -> bool {
        match &self.tx {
            Port::Plain(tx) => tx.is_closed(),
            Port::Call(tx, _) => tx.is_closed(),
            #[cfg(feature = "remote")]
            Port::Token(_) => true,
            #[cfg(feature = "remote")]
            Port::Remote(_) => false,
        }
    }

    /// The instant after which the caller no longer waits, if it gave a timeout.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.tx {
            Port::Call(_, deadline) => *deadline,
            #[cfg(feature = "remote")]
            Port::Remote(remote) => remote.deadline,
            _ => None,
        }
    }
}

impl<T> From<oneshot::Sender<T>> for RpcReplyPort<T> {
    fn from(tx: oneshot::Sender<T>) -> Self {
        RpcReplyPort {
            tx: Port::Plain(tx),
        }
    }
}

impl<T> fmt::Debug for RpcReplyPort<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcReplyPort")
            .field("closed", &self.is_closed())
            .field("deadline", &self.deadline())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    /// A reply port is carried in every request message: it stays three words.
    #[test]
    fn a_reply_port_is_24_bytes() {
        assert_eq!(std::mem::size_of::<super::RpcReplyPort<u64>>(), 24);
        assert_eq!(std::mem::size_of::<Option<super::RpcReplyPort<u64>>>(), 24);
    }
}
