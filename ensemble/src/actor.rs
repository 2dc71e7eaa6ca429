//! The `Actor` trait: an actor's behaviour, written as five hooks.

use std::future::Future;

use tokio::task::JoinHandle;

use crate::{ActorCell, ActorProcessingErr, ActorRef, SpawnError, SpawnOptions, SupervisionEvent};

/// An actor's behaviour.
///
/// The implementing type holds configuration that does not change; mutable state lives in
/// [`State`](Self::State), built by [`pre_start`](Self::pre_start) and handed by
/// `&mut` to every later hook. Hooks of one actor never run concurrently, so state needs
/// no locks.
///
/// Hooks are plain `async fn`s (native async functions in traits: no boxing, no
/// allocation per message). `#[ensemble::async_trait]` may decorate the impl and changes
/// nothing.
///
/// A hook that returns `Err` or panics ends the actor as *failed*: `post_stop` still
/// runs, then the supervisor hears [`SupervisionEvent::ActorFailed`].
///
/// ```
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
///
/// enum Msg {
///     Add(u64),
///     Total(RpcReplyPort<u64>),
/// }
///
/// struct Adder;
///
/// impl Actor for Adder {
///     type Msg = Msg;
///     type State = u64;
///     type Arguments = u64;
///
///     async fn pre_start(&self, _: ActorRef<Msg>, start: u64) -> Result<u64, ActorProcessingErr> {
///         Ok(start)
///     }
///
///     async fn handle(&self, _: ActorRef<Msg>, msg: Msg, total: &mut u64) -> Result<(), ActorProcessingErr> {
///         match msg {
///             Msg::Add(n) => *total += n,
///             Msg::Total(reply) => reply.send(*total)?,
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (adder, handle) = Actor::spawn(None, Adder, 10).await.unwrap();
/// adder.cast(Msg::Add(5)).unwrap();
/// assert_eq!(adder.call(Msg::Total, None).await.unwrap(), 15);
/// adder.stop(None);
/// handle.await.unwrap();
/// # }
/// ```
pub trait Actor: Sized + Send + Sync + 'static {
    /// The messages the actor handles.
    type Msg: Send + 'static;
    /// The actor's private mutable state.
    type State: Send + 'static;
    /// What [`pre_start`](Self::pre_start) is given to build the state.
    type Arguments: Send + 'static;

    /// Builds the state. Runs before the actor handles anything; if it fails, the spawn
    /// returns [`SpawnError::StartupFailed`] and the name is free again at once.
    fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> impl Future<Output = Result<Self::State, ActorProcessingErr>> + Send;

    /// Runs once after `pre_start`, before the first message. Default: nothing.
    fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send {
        let _ = (myself, state);
        async { Ok(()) }
    }

    /// Handles one message.
    ///
    /// Default: drops the message, and the first time an actor gets one, logs a warning
    /// (target `ensemble`, with the actor's id and type) saying that its type does not
    /// implement `handle`: a message sent to such an actor is almost always a mistake.
    fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send {
        let _ = (message, state);
        crate::runtime::warn_unhandled::<Self>(&myself);
        async { Ok(()) }
    }

    /// Handles an event about a linked child, a monitored actor (`ActorDown`) or a watched
    /// process group (`ProcessGroupChanged`). Runs ahead of queued messages.
    ///
    /// Default (OTP link semantics): a child that *failed* fails this actor too, with an
    /// error naming the child and carrying the child's error as its source; every other
    /// event is ignored.
    fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        message: SupervisionEvent,
        state: &mut Self::State,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send {
        let _ = (myself, state);
        async move {
            match message {
                SupervisionEvent::ActorFailed(child, err) => {
                    Err(Box::new(crate::runtime::LinkedFailure::new(&child, err))
                        as ActorProcessingErr)
                }
                _ => Ok(()),
            }
        }
    }

    /// Runs once when the actor stops or fails, after its children have ended; not after
    /// a kill, and not when `pre_start` failed (there is no state then). Default: nothing.
    fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> impl Future<Output = Result<(), ActorProcessingErr>> + Send {
        let _ = (myself, state);
        async { Ok(()) }
    }

    /// Spawns an actor, optionally under a registered name.
    ///
    /// Returns once `pre_start` has finished, with the actor's ref and a `JoinHandle`
    /// that resolves `Ok(())` when the actor has fully ended (after a stop, a failure or
    /// a kill alike).
    fn spawn(
        name: Option<String>,
        handler: Self,
        startup_args: Self::Arguments,
    ) -> impl Future<Output = Result<(ActorRef<Self::Msg>, JoinHandle<()>), SpawnError>> + Send
    {
        let options = SpawnOptions {
            name,
            ..SpawnOptions::default()
        };
        crate::runtime::spawn(options, handler, startup_args)
    }

    /// Spawns an actor linked to `supervisor` as its child (see [`ActorCell::link`]).
    ///
    /// The supervisor first hears [`SupervisionEvent::ActorStarted`], later exactly one
    /// of `ActorFailed` or `ActorTerminated`. If the supervisor is already ending, the new
    /// actor is stopped right after it starts.
    fn spawn_linked(
        name: Option<String>,
        handler: Self,
        startup_args: Self::Arguments,
        supervisor: ActorCell,
    ) -> impl Future<Output = Result<(ActorRef<Self::Msg>, JoinHandle<()>), SpawnError>> + Send
    {
        let options = SpawnOptions {
            name,
            supervisor: Some(supervisor),
            ..SpawnOptions::default()
        };
        crate::runtime::spawn(options, handler, startup_args)
    }

    /// Spawns an actor as `options` say: name, supervisor, mailbox bound and overflow
    /// policy.
    fn spawn_with(
        options: SpawnOptions,
        handler: Self,
        startup_args: Self::Arguments,
    ) -> impl Future<Output = Result<(ActorRef<Self::Msg>, JoinHandle<()>), SpawnError>> + Send
    {
        crate::runtime::spawn(options, handler, startup_args)
    }
}

/// Spawns an unnamed actor built by `A::default()`: `Actor::spawn(None, A::default(),
/// args)` (ractor's `ractor::spawn`).
///
/// # Errors
/// As [`Actor::spawn`].
pub async fn spawn<A: Actor + Default>(
    args: A::Arguments,
) -> Result<(ActorRef<A::Msg>, JoinHandle<()>), SpawnError> {
    A::spawn(None, A::default(), args).await
}

/// Spawns an actor built by `A::default()` under `name`: `Actor::spawn(Some(name),
/// A::default(), args)` (ractor's `ractor::spawn_named`).
///
/// # Errors
/// As [`Actor::spawn`].
pub async fn spawn_named<A: Actor + Default>(
    name: String,
    args: A::Arguments,
) -> Result<(ActorRef<A::Msg>, JoinHandle<()>), SpawnError> {
    A::spawn(Some(name), A::default(), args).await
}
