//! Request and response: the reply port, and calls beyond one actor (to many at once,
//! or with the reply forwarded to a third).
//!
//! Most code needs only [`ActorRef::call`](crate::ActorRef::call) and the
//! [`RpcReplyPort`] its handler answers through. Here are the rest, under the names
//! ractor users know: [`multi_call`], [`call_and_forward`](crate::ActorRef::call_and_forward)
//! (and the [`forward!`](crate::forward) macro), and [`cast`] / [`call`] through an untyped
//! [`ActorCell`].

mod port;

#[cfg(feature = "remote")]
pub(crate) use port::Port;
#[cfg(feature = "remote")]
pub(crate) use port::RemotePort;
pub use port::RpcReplyPort;

use std::fmt;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::{ActorCell, ActorRef, CallError, SendError};

/// Casts `msg` to the actor behind `actor` (a cell or a ref, owned or borrowed), whose
/// message type must be `M` ([`SendError::WrongType`] hands it back otherwise).
///
/// # Errors
/// As [`ActorRef::cast`], plus `WrongType`.
pub fn cast<M: Send + 'static>(actor: impl Into<ActorCell>, msg: M) -> Result<(), SendError<M>> {
    actor.into().send_message(msg)
}

/// Calls the actor behind `actor` (a cell or a ref, owned or borrowed), whose message
/// type must be `M`; see [`ActorRef::call`].
///
/// ```
/// use ensemble::{Actor, ActorCell, ActorProcessingErr, ActorRef, CallError, RpcReplyPort, SendError, rpc};
///
/// struct Answer;
/// impl Actor for Answer {
///     type Msg = RpcReplyPort<u32>;
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
///     async fn handle(&self, _: ActorRef<Self::Msg>, reply: Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
///         Ok(reply.send(42)?)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (answer, _) = Actor::spawn(None, Answer, ()).await.unwrap();
/// let cell: ActorCell = answer.cell();
/// let answer: u32 = rpc::call(&cell, |reply: RpcReplyPort<u32>| reply, None).await.unwrap();
/// assert_eq!(answer, 42);
/// // The wrong message type: the request comes back.
/// let wrong = rpc::call(&cell, |_: RpcReplyPort<u32>| "hello", None).await;
/// assert!(matches!(wrong, Err(CallError::Send(SendError::WrongType("hello")))));
/// # }
/// ```
///
/// # Errors
/// As [`ActorRef::call`]; a wrong message type is `CallError::Send(SendError::WrongType)`.
pub async fn call<M, R, F>(
    actor: impl Into<ActorCell>,
    msg_builder: F,
    timeout: Option<Duration>,
) -> Result<R, CallError<M>>
where
    M: Send + 'static,
    F: FnOnce(RpcReplyPort<R>) -> M,
{
    match actor.into().into_ref::<M>() {
        Some(actor) => actor.call(msg_builder, timeout).await,
        None => {
            // Build the request only to hand it back: the port in it just drops.
            let (tx, _) = tokio::sync::oneshot::channel();
            let request = msg_builder(RpcReplyPort::from(tx));
            Err(CallError::Send(SendError::WrongType(request)))
        }
    }
}

/// Calls every actor in `actors` with a request from `msg_builder`, all at once, and
/// waits for every reply (each within `timeout`). One result per actor, in order: a
/// refused send comes back with its message, as from [`ActorRef::call`]; one actor's
/// failure does not affect the others'.
///
/// ```
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, rpc};
///
/// struct Doubler(u32);
/// impl Actor for Doubler {
///     type Msg = RpcReplyPort<u32>;
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
///     async fn handle(&self, _: ActorRef<Self::Msg>, reply: Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
///         Ok(reply.send(self.0 * 2)?)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut actors = Vec::new();
/// for n in 1..=3 {
///     actors.push(Actor::spawn(None, Doubler(n), ()).await.unwrap().0);
/// }
/// let replies = rpc::multi_call(&actors, |reply| reply, None).await;
/// let replies: Vec<u32> = replies.into_iter().map(Result::unwrap).collect();
/// assert_eq!(replies, [2, 4, 6]);
/// # }
/// ```
pub async fn multi_call<M, R, F>(
    actors: &[ActorRef<M>],
    msg_builder: F,
    timeout: Option<Duration>,
) -> Vec<Result<R, CallError<M>>>
where
    M: Send + 'static,
    R: Send + 'static,
    F: Fn(RpcReplyPort<R>) -> M,
{
    let calls = actors.iter().map(|actor| actor.call(&msg_builder, timeout));
    futures_join_all(calls).await
}

/// Polls every future in place until all are done; results in order. (What
/// `futures::future::join_all` does, without the dependency.)
async fn futures_join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    type Slot<F> = (std::pin::Pin<Box<F>>, Option<<F as Future>::Output>);
    let mut slots: Vec<Slot<F>> = futures.map(|f| (Box::pin(f), None)).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in &mut slots {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    slots.into_iter().filter_map(|(_, out)| out).collect()
}

/// Why a call whose reply was to be forwarded did not end with the reply forwarded.
#[non_exhaustive]
pub enum ForwardError<M, F> {
    /// The call failed: refused (with the request back), timed out, or the reply port
    /// was dropped.
    Call(CallError<M>),
    /// The reply came, but the actor it was forwarded to refused it (it is handed back,
    /// mapped).
    Forward(SendError<F>),
}

impl<M, F> fmt::Debug for ForwardError<M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardError::Call(e) => write!(f, "Call({e:?})"),
            ForwardError::Forward(e) => write!(f, "Forward({e:?})"),
        }
    }
}

impl<M, F> fmt::Display for ForwardError<M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardError::Call(e) => write!(f, "the call failed: {e}"),
            ForwardError::Forward(e) => write!(f, "the reply could not be forwarded: {e}"),
        }
    }
}

impl<M, F> std::error::Error for ForwardError<M, F> {}

/// The task of a [`call_and_forward`](ActorRef::call_and_forward): ends when the reply
/// has been forwarded, or with why not.
pub type Forwarding<M, N> = JoinHandle<Result<(), ForwardError<M, N>>>;

impl<M: Send + 'static> ActorRef<M> {
    /// Calls this actor and casts the reply, mapped by `forward_mapping`, to `forward_to`,
    /// without the caller waiting: the request is queued now (or handed back), and a
    /// task waits for the reply and forwards it. The task's result says how that went.
    /// (ractor's `call_and_forward`; the [`forward!`](crate::forward) macro does the
    /// same and waits.)
    ///
    /// ```
    /// use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
    ///
    /// struct Answer;
    /// impl Actor for Answer {
    ///     type Msg = RpcReplyPort<u32>;
    ///     type State = ();
    ///     type Arguments = ();
    ///     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
    ///         Ok(())
    ///     }
    ///     async fn handle(&self, _: ActorRef<Self::Msg>, reply: Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
    ///         Ok(reply.send(42)?)
    ///     }
    /// }
    ///
    /// struct Print;
    /// impl Actor for Print {
    ///     type Msg = String;
    ///     type State = Vec<String>;
    ///     type Arguments = ();
    ///     async fn pre_start(&self, _: ActorRef<String>, _: ()) -> Result<Vec<String>, ActorProcessingErr> {
    ///         Ok(Vec::new())
    ///     }
    ///     async fn handle(&self, _: ActorRef<String>, line: String, lines: &mut Vec<String>) -> Result<(), ActorProcessingErr> {
    ///         lines.push(line);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (answer, _) = Actor::spawn(None, Answer, ()).await.unwrap();
    /// let (print, _) = Actor::spawn(None, Print, ()).await.unwrap();
    /// let task = answer
    ///     .call_and_forward(|reply| reply, &print, |n: u32| format!("the answer is {n}"), None)
    ///     .unwrap();
    /// task.await.unwrap().unwrap(); // forwarded
    /// # }
    /// ```
    ///
    /// # Errors
    /// The request back if it could not be queued.
    pub fn call_and_forward<R, N, B, Map>(
        &self,
        msg_builder: B,
        forward_to: &ActorRef<N>,
        forward_mapping: Map,
        timeout: Option<Duration>,
    ) -> Result<Forwarding<M, N>, SendError<M>>
    where
        R: Send + 'static,
        N: Send + 'static,
        B: FnOnce(RpcReplyPort<R>) -> M,
        Map: FnOnce(R) -> N + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.cast(msg_builder(RpcReplyPort::from(tx)))?;
        let forward_to = forward_to.clone();
        Ok(tokio::spawn(async move {
            let reply = match timeout {
                None => rx.await,
                Some(t) => match tokio::time::timeout(t, rx).await {
                    Ok(reply) => reply,
                    Err(_) => return Err(ForwardError::Call(CallError::Timeout)),
                },
            };
            let reply = reply.map_err(|_| ForwardError::Call(CallError::ReplyDropped))?;
            forward_to
                .cast(forward_mapping(reply))
                .map_err(ForwardError::Forward)
        }))
    }
}
