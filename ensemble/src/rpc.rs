//! The reply half of a request-response call.

use std::fmt;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::SendError;

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
    tx: oneshot::Sender<T>,
    deadline: Option<Instant>,
}

impl<T> RpcReplyPort<T> {
    pub(crate) fn new(tx: oneshot::Sender<T>, deadline: Option<Instant>) -> Self {
        RpcReplyPort { tx, deadline }
    }

    /// Sends the reply.
    ///
    /// `Err(SendError::Closed(value))` when the caller is gone before its timeout (or had
    /// none); `Ok(())` when the reply was delivered or when the caller had already timed
    /// out (the late reply is dropped quietly).
    pub fn send(self, value: T) -> Result<(), SendError<T>> {
        match self.tx.send(value) {
            Ok(()) => Ok(()),
            Err(value) => match self.deadline {
                Some(deadline) if Instant::now() >= deadline => {
                    tracing::trace!("late reply dropped: the caller timed out");
                    Ok(())
                }
                _ => Err(SendError::Closed(value)),
            },
        }
    }

    /// Whether the caller has stopped waiting (timed out or dropped its call).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// The instant after which the caller no longer waits, if it gave a timeout.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl<T> From<oneshot::Sender<T>> for RpcReplyPort<T> {
    fn from(tx: oneshot::Sender<T>) -> Self {
        RpcReplyPort { tx, deadline: None }
    }
}

impl<T> fmt::Debug for RpcReplyPort<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcReplyPort")
            .field("closed", &self.tx.is_closed())
            .field("deadline", &self.deadline)
            .finish()
    }
}
