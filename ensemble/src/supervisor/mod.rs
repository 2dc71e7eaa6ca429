//! The OTP supervisor: an actor that starts children from specs and restarts them by a
//! strategy, within a restart intensity, optionally with backoff.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::time::Duration;
//! use ensemble::{Actor, ActorProcessingErr, ActorRef};
//! use ensemble::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorFlags, SupervisorSpec};
//!
//! struct Flaky;
//! impl Actor for Flaky {
//!     type Msg = &'static str;
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
//!         Ok(())
//!     }
//!     async fn handle(&self, _: ActorRef<Self::Msg>, msg: Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
//!         Err(msg.into()) // every message is a crash
//!     }
//! }
//!
//! let spec = SupervisorSpec::new(
//!     SupervisorFlags::new(Strategy::OneForOne).intensity(3, Duration::from_secs(10)),
//! )
//! .child(ChildSpec::new("flaky", || (Flaky, ())).name("flaky"));
//! let (sup, _) = Supervisor::start(None, spec).await.unwrap();
//!
//! let first = ActorRef::<&'static str>::where_is("flaky").unwrap();
//! first.cast("boom").unwrap();
//! first.wait(None).await.unwrap();
//! let children = sup.which_children().await.unwrap(); // after the restart
//! assert_eq!(children[0].restarts, 1);
//! let second = ActorRef::<&'static str>::where_is("flaky").unwrap();
//! assert_ne!(first.id(), second.id());
//! assert!(first.cast("hello").is_err()); // the old incarnation is gone
//! # }
//! ```

mod spec;
mod state;

use std::fmt;

use tokio::task::JoinHandle;

use crate::{
    Actor, ActorCell, ActorProcessingErr, ActorRef, CallError, RpcReplyPort, SpawnError,
    SupervisionEvent,
};

pub use spec::{Backoff, ChildKind, ChildSpec, Restart, Strategy, SupervisorFlags, SupervisorSpec};
pub use state::{IntensityExceeded, SupervisorState};

/// The supervisor actor. Spawn it with [`Supervisor::start`] (or `Actor::spawn`) and a
/// [`SupervisorSpec`]; talk to it through the methods on `ActorRef<SupervisorMsg>`.
pub struct Supervisor;

impl Supervisor {
    /// Starts a supervisor and its children, in spec order. If a child fails to start,
    /// the ones already started are shut down and the spawn fails, naming the child.
    pub async fn start(
        name: Option<String>,
        spec: SupervisorSpec,
    ) -> Result<(ActorRef<SupervisorMsg>, JoinHandle<()>), SpawnError> {
        Actor::spawn(name, Supervisor, spec).await
    }

    /// Like [`start`](Self::start), linked to `supervisor`.
    pub async fn start_linked(
        name: Option<String>,
        spec: SupervisorSpec,
        supervisor: ActorCell,
    ) -> Result<(ActorRef<SupervisorMsg>, JoinHandle<()>), SpawnError> {
        Actor::spawn_linked(name, Supervisor, spec, supervisor).await
    }
}

/// The requests a supervisor handles.
#[non_exhaustive]
pub enum SupervisorMsg {
    /// Adds a child spec at the end and starts it.
    StartChild(ChildSpec, RpcReplyPort<Result<ActorCell, SupervisorError>>),
    /// Shuts a child down by its policy; its spec is kept (unless temporary).
    TerminateChild(String, RpcReplyPort<Result<(), SupervisorError>>),
    /// Starts a child whose spec is kept but which is not running.
    RestartChild(String, RpcReplyPort<Result<ActorCell, SupervisorError>>),
    /// Removes the spec of a child that is not running.
    DeleteChild(String, RpcReplyPort<Result<(), SupervisorError>>),
    /// Lists the children in spec order.
    WhichChildren(RpcReplyPort<Vec<ChildInfo>>),
    /// Counts the children.
    CountChildren(RpcReplyPort<ChildCounts>),
    /// A backoff delay has passed (sent by the supervisor to itself).
    RestartDue(RestartTimer),
}

/// A supervisor's note to itself that a delayed restart is due. Not constructible
/// outside the crate.
#[derive(Debug)]
pub struct RestartTimer(pub(crate) u64);

/// One child, as listed by [`which_children`](ActorRef::which_children).
#[derive(Debug, Clone)]
pub struct ChildInfo {
    /// The child's id in its spec.
    pub id: String,
    /// The running incarnation, or `None` while stopped or waiting to restart.
    pub cell: Option<ActorCell>,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// When it is restarted.
    pub restart: Restart,
    /// How many times the supervisor has restarted it.
    pub restarts: u32,
}

impl ChildInfo {
    /// A typed ref to the running incarnation, if there is one and its message type is
    /// `M`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use ensemble::{Actor, ActorProcessingErr, ActorRef};
    /// use ensemble::supervisor::{ChildSpec, Supervisor, SupervisorFlags, SupervisorSpec};
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = u32;
    ///     type State = ();
    ///     type Arguments = ();
    ///     async fn pre_start(&self, _: ActorRef<u32>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
    /// }
    /// let spec = SupervisorSpec::new(SupervisorFlags::default())
    ///     .child(ChildSpec::new("worker", || (Worker, ())));
    /// let (sup, _) = Supervisor::start(None, spec).await.unwrap();
    /// let children = sup.which_children().await.unwrap();
    /// let worker: ActorRef<u32> = children[0].actor_ref().unwrap();
    /// worker.cast(7).unwrap();
    /// assert!(children[0].actor_ref::<String>().is_none()); // wrong message type
    /// # }
    /// ```
    pub fn actor_ref<M: Send + 'static>(&self) -> Option<ActorRef<M>> {
        self.cell.clone()?.into_ref()
    }
}

/// Child counts, as OTP's `count_children`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildCounts {
    /// Child specs held, running or not.
    pub specs: usize,
    /// Children running now.
    pub active: usize,
    /// Specs of kind supervisor.
    pub supervisors: usize,
    /// Specs of kind worker.
    pub workers: usize,
}

/// Why a supervisor request failed.
#[non_exhaustive]
pub enum SupervisorError {
    /// A child with this id already exists.
    AlreadyPresent(String),
    /// No child has this id.
    NotFound(String),
    /// The child is running; terminate it first.
    Running(String),
    /// The child could not be started.
    StartFailed(String, SpawnError),
    /// The supervisor has ended or did not reply.
    Unavailable,
}

impl fmt::Debug for SupervisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorError::AlreadyPresent(id) => {
                f.debug_tuple("AlreadyPresent").field(id).finish()
            }
            SupervisorError::NotFound(id) => f.debug_tuple("NotFound").field(id).finish(),
            SupervisorError::Running(id) => f.debug_tuple("Running").field(id).finish(),
            SupervisorError::StartFailed(id, e) => {
                f.debug_tuple("StartFailed").field(id).field(e).finish()
            }
            SupervisorError::Unavailable => f.write_str("Unavailable"),
        }
    }
}

impl fmt::Display for SupervisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorError::AlreadyPresent(id) => {
                write!(f, "a child with id {id:?} already exists")
            }
            SupervisorError::NotFound(id) => write!(f, "no child with id {id:?}"),
            SupervisorError::Running(id) => {
                write!(f, "child {id:?} is running; terminate it first")
            }
            SupervisorError::StartFailed(id, e) => write!(f, "child {id:?} failed to start: {e}"),
            SupervisorError::Unavailable => {
                f.write_str("the supervisor has ended or did not reply")
            }
        }
    }
}

impl std::error::Error for SupervisorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SupervisorError::StartFailed(_, e) => Some(e),
            _ => None,
        }
    }
}

impl<M> From<CallError<M>> for SupervisorError {
    fn from(_: CallError<M>) -> Self {
        SupervisorError::Unavailable
    }
}

/// The dynamic-children API, as OTP's `supervisor` module.
impl ActorRef<SupervisorMsg> {
    /// Adds `spec` at the end and starts it.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<ActorCell, SupervisorError> {
        self.call(|r| SupervisorMsg::StartChild(spec, r), None)
            .await?
    }

    /// Shuts child `id` down by its shutdown policy; keeps its spec unless temporary.
    pub async fn terminate_child(&self, id: impl Into<String>) -> Result<(), SupervisorError> {
        let id = id.into();
        self.call(|r| SupervisorMsg::TerminateChild(id, r), None)
            .await?
    }

    /// Starts child `id` again after `terminate_child`.
    pub async fn restart_child(&self, id: impl Into<String>) -> Result<ActorCell, SupervisorError> {
        let id = id.into();
        self.call(|r| SupervisorMsg::RestartChild(id, r), None)
            .await?
    }

    /// Removes the spec of child `id`, which must not be running.
    pub async fn delete_child(&self, id: impl Into<String>) -> Result<(), SupervisorError> {
        let id = id.into();
        self.call(|r| SupervisorMsg::DeleteChild(id, r), None)
            .await?
    }

    /// Lists the children in spec order.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        Ok(self.call(SupervisorMsg::WhichChildren, None).await?)
    }

    /// Counts the children.
    pub async fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        Ok(self.call(SupervisorMsg::CountChildren, None).await?)
    }
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorSpec;

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        spec: SupervisorSpec,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        // A supervisor must never lose its own messages (a shed restart timer would leave
        // a child down for good): refuse a mailbox that sheds. Reject and Wait are fine;
        // the restart timer passes their bound.
        if myself.inner.mailbox.sheds() {
            return Err("a supervisor's mailbox must not shed messages: \
                use Overflow::Reject or Overflow::Wait (or no bound)"
                .into());
        }
        spec.flags.check()?;
        SupervisorState::start(myself, spec).await
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        state.handle(&myself, msg).await
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        evt: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        state.on_event(&myself, evt).await
    }

    async fn post_stop(
        &self,
        _: ActorRef<SupervisorMsg>,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        state.cancel_timers();
        Ok(())
    }
}
