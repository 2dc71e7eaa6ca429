//! `ActorRef<M>`: the typed handle through which messages reach an actor.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::cell::{Header, Shared};
use crate::mailbox::{Pushed, Refused};
use crate::node::record_dead_letters;
use crate::{
    ActorCell, ActorId, ActorStatus, CallError, MailboxStats, RpcReplyPort, SendError, WaitTimeout,
    registry,
};

/// A typed handle to an actor whose messages are `M`.
///
/// Cheap to clone (one reference count), `Send + Sync`, and `Debug` whatever `M` is.
/// Holding a ref does not keep the actor alive: actors live until they are stopped,
/// killed or fail, as in Erlang.
pub struct ActorRef<M> {
    pub(crate) inner: Arc<Shared<M>>,
}

impl<M> Clone for ActorRef<M> {
    fn clone(&self) -> Self {
        ActorRef {
            inner: self.inner.clone(),
        }
    }
}

impl<M: Send + 'static> ActorRef<M> {
    fn header(&self) -> &Header {
        &self.inner.header
    }

    /// Sends a message without waiting (fire-and-forget).
    ///
    /// The message is handed back in [`SendError::Closed`] if the actor has ended or is
    /// draining or stopping. Casts from one sender are handled in the order they were sent.
    ///
    /// A bounded mailbox that is full returns [`SendError::Full`] with the message
    /// (policies `Reject` and `Wait`), or sheds a message and returns `Ok(())`
    /// (`DropOldest`, `DropNewest`). `cast` never waits.
    #[inline]
    pub fn cast(&self, message: M) -> Result<(), SendError<M>> {
        match self.inner.mailbox.push(message) {
            Ok(Pushed::Queued) => Ok(()),
            outcome => self.settle(outcome),
        }
    }

    /// The uncommon outcomes of a push: refusals become errors, shed messages dead
    /// letters.
    #[cold]
    fn settle(&self, outcome: Result<Pushed<M>, Refused<M>>) -> Result<(), SendError<M>> {
        match outcome {
            Ok(Pushed::Queued) => Ok(()),
            Ok(Pushed::Shed(shed)) => {
                record_dead_letters(&self.inner, 1, "shed: mailbox full");
                drop(shed);
                Ok(())
            }
            Err(Refused::Closed(m)) => Err(SendError::Closed(m)),
            Err(Refused::Full(m)) => Err(SendError::Full(m)),
        }
    }

    /// A message from the runtime to the actor itself (a supervisor's restart timer):
    /// queued even past a bounded mailbox's capacity; refused only once the actor stops.
    pub(crate) fn cast_internal(&self, message: M) -> Result<(), M> {
        self.inner.mailbox.push_internal(message)
    }

    /// Sends a message, waiting for room if the mailbox is bounded with
    /// [`Overflow::Wait`](crate::Overflow::Wait) and full. With any other mailbox it is
    /// [`cast`](Self::cast). Stops waiting with `SendError::Closed(msg)` if the actor
    /// ends meanwhile.
    pub async fn send(&self, message: M) -> Result<(), SendError<M>> {
        let mailbox = &self.inner.mailbox;
        let outcome = if mailbox.waits_for_room() {
            mailbox.push_wait(message, None).await
        } else {
            mailbox.push(message)
        };
        self.settle(outcome)
    }

    /// Like [`send`](Self::send), giving up after `timeout` with `SendError::Full(msg)`.
    pub async fn send_timeout(&self, message: M, timeout: Duration) -> Result<(), SendError<M>> {
        let outcome = self
            .inner
            .mailbox
            .push_wait(message, Instant::now().checked_add(timeout))
            .await;
        self.settle(outcome)
    }

    /// Sends without ever waiting: [`cast`](Self::cast) under the name bounded-channel
    /// users expect.
    #[inline]
    pub fn try_send(&self, message: M) -> Result<(), SendError<M>> {
        self.cast(message)
    }

    /// The actor's message counts.
    pub fn stats(&self) -> MailboxStats {
        self.inner.mailbox.stats()
    }

    /// Sends a request built around a fresh [`RpcReplyPort`] and waits for the reply.
    ///
    /// Returns the reply itself. A full bounded mailbox with `Overflow::Wait` makes the
    /// call wait for room (counted against the timeout); with `Reject` the request comes
    /// back in `CallError::Send(SendError::Full(msg))`; a drop policy that sheds the
    /// request yields `ReplyDropped`. With `timeout` set, gives up after it with
    /// [`CallError::Timeout`] (a late reply is then dropped quietly). A handler that drops
    /// the port without replying, or an actor that ends before handling the request,
    /// yields [`CallError::ReplyDropped`] at once. An ended actor hands the request back
    /// in `CallError::Send(SendError::Closed(msg))`.
    ///
    /// ```
    /// # use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
    /// # struct Doubler;
    /// # impl Actor for Doubler {
    /// #     type Msg = (u32, RpcReplyPort<u32>);
    /// #     type State = ();
    /// #     type Arguments = ();
    /// #     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
    /// #     async fn handle(&self, _: ActorRef<Self::Msg>, (n, reply): Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
    /// #         Ok(reply.send(n * 2)?)
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (doubler, _) = Actor::spawn(None, Doubler, ()).await.unwrap();
    /// let four = doubler
    ///     .call(|reply| (2, reply), Some(std::time::Duration::from_secs(1)))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(four, 4);
    /// # }
    /// ```
    pub async fn call<R, F>(
        &self,
        msg_builder: F,
        timeout: Option<Duration>,
    ) -> Result<R, CallError<M>>
    where
        F: FnOnce(RpcReplyPort<R>) -> M,
    {
        let (tx, rx) = oneshot::channel();
        // A timeout too large to represent means no deadline, never a panic.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        // A full `Wait` mailbox makes the call wait for room (within its timeout); other
        // policies behave as `cast`.
        let request = msg_builder(RpcReplyPort::new(tx, deadline));
        let mailbox = &self.inner.mailbox;
        let pushed = if mailbox.calls_wait_for_room() {
            mailbox.push_wait(request, deadline).await
        } else {
            mailbox.push(request)
        };
        // The common outcome inline; the rest (refusals, shed messages) in the cold path.
        if !matches!(pushed, Ok(Pushed::Queued)) {
            self.settle(pushed)?;
        }
        let reply = match deadline {
            None => rx.await,
            Some(deadline) => match tokio::time::timeout_at(deadline, rx).await {
                Ok(reply) => reply,
                Err(_) => {
                    self.inner.header.system.tracker().call_timed_out();
                    return Err(CallError::Timeout);
                }
            },
        };
        match reply {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(remote)) => Err(CallError::Remote(*remote)),
            Err(_) => Err(CallError::ReplyDropped),
        }
    }

    /// Asks the actor to stop; returns at once. See [`ActorCell::stop`].
    pub fn stop(&self, reason: Option<String>) {
        self.inner.ask_stop(reason);
    }

    /// Aborts the actor; returns at once. See [`ActorCell::kill`].
    pub fn kill(&self) {
        self.inner.ask_kill();
    }

    /// Stops accepting messages at once, handles what is queued, then stops.
    /// See [`ActorCell::drain`].
    pub fn drain(&self) -> Result<(), SendError<()>> {
        self.cell().drain()
    }

    /// Stops the actor and waits until it has fully ended or `timeout` passes.
    pub async fn stop_and_wait(
        &self,
        reason: Option<String>,
        timeout: Option<Duration>,
    ) -> Result<(), WaitTimeout> {
        self.stop(reason);
        self.header().exited_within(timeout).await
    }

    /// Kills the actor and waits until it has fully ended or `timeout` passes.
    pub async fn kill_and_wait(&self, timeout: Option<Duration>) -> Result<(), WaitTimeout> {
        self.kill();
        self.header().exited_within(timeout).await
    }

    /// Drains the actor and waits until it has ended or `timeout` passes.
    pub async fn drain_and_wait(&self, timeout: Option<Duration>) -> Result<(), WaitTimeout> {
        let _ = self.drain();
        self.header().exited_within(timeout).await
    }

    /// Waits until the actor has fully ended, without asking it to.
    pub async fn wait(&self, timeout: Option<Duration>) -> Result<(), WaitTimeout> {
        self.header().exited_within(timeout).await
    }

    /// The actor's id (the same as its cell's).
    pub fn id(&self) -> ActorId {
        self.header().id
    }

    /// The actor's registered name, if any.
    pub fn name(&self) -> Option<String> {
        self.header().name.as_deref().map(str::to_owned)
    }

    /// Where the actor is in its life.
    pub fn status(&self) -> ActorStatus {
        self.header().status()
    }

    /// The untyped handle to the same actor.
    pub fn cell(&self) -> ActorCell {
        ActorCell(self.inner.clone())
    }

    /// The live actor registered under `name`, if it handles messages of type `M`.
    /// `None` if there is no such actor or it has another message type.
    pub fn where_is(name: impl AsRef<str>) -> Option<ActorRef<M>> {
        registry::where_is(name)?.into_ref()
    }
}

impl ActorCell {
    /// A typed ref to this actor if its message type is `M`, else `None`.
    pub fn into_ref<M: Send + 'static>(self) -> Option<ActorRef<M>> {
        self.downcast::<M>().map(|inner| ActorRef { inner })
    }

    /// Casts `message` to this actor, if its message type is `M`: a typed send through the
    /// untyped handle (ractor's `ActorCell::send_message`).
    ///
    /// ```
    /// use ensemble::{Actor, ActorProcessingErr, ActorRef, SendError};
    ///
    /// struct Sink;
    /// impl Actor for Sink {
    ///     type Msg = u32;
    ///     type State = ();
    ///     type Arguments = ();
    ///     async fn pre_start(&self, _: ActorRef<u32>, _: ()) -> Result<(), ActorProcessingErr> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (sink, _) = Actor::spawn(None, Sink, ()).await.unwrap();
    /// let cell = sink.cell();
    /// cell.send_message(7u32).unwrap();
    /// assert!(matches!(cell.send_message("seven"), Err(SendError::WrongType("seven"))));
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`SendError::WrongType`] with the message if the actor takes another type;
    /// otherwise as [`ActorRef::cast`].
    pub fn send_message<M: Send + 'static>(&self, message: M) -> Result<(), SendError<M>> {
        match self.downcast::<M>() {
            Some(inner) => ActorRef { inner }.cast(message),
            None => Err(SendError::WrongType(message)),
        }
    }
}

impl<M: Send + 'static> From<ActorRef<M>> for ActorCell {
    fn from(r: ActorRef<M>) -> Self {
        ActorCell(r.inner)
    }
}

impl<M> fmt::Debug for ActorRef<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.inner.header;
        match &h.name {
            Some(n) => write!(f, "ActorRef({} {:?})", h.id, n),
            None => write!(f, "ActorRef({})", h.id),
        }
    }
}

impl<M> PartialEq for ActorRef<M> {
    fn eq(&self, other: &Self) -> bool {
        self.inner.header.id == other.inner.header.id
    }
}

impl<M> Eq for ActorRef<M> {}

impl<M> Hash for ActorRef<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.header.id.hash(state);
    }
}
