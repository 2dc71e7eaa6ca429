//! Supervision events: what a supervisor hears about the actors linked to it.

use std::any::Any;
use std::fmt;

use crate::{ActorCell, ActorProcessingErr};

/// An event about a linked child, delivered to its supervisor's
/// [`handle_supervisor_evt`](crate::Actor::handle_supervisor_evt) ahead of any queued
/// message.
///
/// For each child linked with [`spawn_linked`](crate::Actor::spawn_linked) the supervisor
/// hears `ActorStarted` first, then exactly one of `ActorFailed` or `ActorTerminated`.
/// By the time the end event arrives, the child's `post_stop` has run (unless it was
/// killed) and its name is free again.
#[non_exhaustive]
pub enum SupervisionEvent {
    /// The child finished `pre_start` and is running.
    ActorStarted(ActorCell),
    /// The child failed: a hook returned `Err` or panicked (the panic message is in the
    /// error's text), or its own default supervision escalated a failure.
    ActorFailed(ActorCell, ActorProcessingErr),
    /// The child ended without failing: stopped (reason as given to `stop`), drained
    /// (reason `None`) or killed (reason `"killed"`, state `None`). The final state is
    /// handed over when `post_stop` ran.
    ActorTerminated(ActorCell, Option<BoxedState>, Option<String>),
    /// A monitored actor (see [`ActorCell::monitor`]) ended. Delivered once per monitor;
    /// ignored by the default `handle_supervisor_evt`.
    ActorDown(ActorCell, ExitReason),
    /// A process group this actor monitors changed (see [`crate::pg`]). Ignored by the
    /// default `handle_supervisor_evt`.
    ProcessGroupChanged(crate::pg::GroupChange),
}

/// Why an actor ended, as told to its monitors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "remote", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ExitReason {
    /// Stopped or drained normally, with the reason given to `stop`.
    Stopped(Option<String>),
    /// Killed.
    Killed,
    /// Failed; the text of the error and its sources.
    Failed(String),
    /// The actor had already ended when the monitor was set up (Erlang's `noproc`).
    NoProc,
    /// The actor is on another node, and that node died, left, or stayed unreachable
    /// (Erlang's `noconnection`): whether the actor itself still runs is unknown.
    NoConnection,
}

impl ExitReason {
    /// Whether this is a normal end (OTP's `normal` or `shutdown`): stopped or drained.
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Stopped(_))
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Stopped(Some(r)) => write!(f, "stopped: {r}"),
            ExitReason::Stopped(None) => f.write_str("stopped"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::Failed(e) => write!(f, "failed: {e}"),
            ExitReason::NoProc => f.write_str("no such actor (already ended)"),
            ExitReason::NoConnection => f.write_str("no connection to its node"),
        }
    }
}

impl SupervisionEvent {
    /// The actor the event is about (`None` for a process-group change, which may be
    /// about several).
    pub fn actor_cell(&self) -> Option<&ActorCell> {
        match self {
            SupervisionEvent::ActorStarted(c)
            | SupervisionEvent::ActorFailed(c, _)
            | SupervisionEvent::ActorTerminated(c, _, _)
            | SupervisionEvent::ActorDown(c, _) => Some(c),
            SupervisionEvent::ProcessGroupChanged(_) => None,
        }
    }
}

impl fmt::Debug for SupervisionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisionEvent::ActorStarted(c) => f.debug_tuple("ActorStarted").field(c).finish(),
            SupervisionEvent::ActorFailed(c, e) => {
                f.debug_tuple("ActorFailed").field(c).field(e).finish()
            }
            SupervisionEvent::ActorTerminated(c, s, r) => f
                .debug_tuple("ActorTerminated")
                .field(c)
                .field(s)
                .field(r)
                .finish(),
            SupervisionEvent::ActorDown(c, r) => {
                f.debug_tuple("ActorDown").field(c).field(r).finish()
            }
            SupervisionEvent::ProcessGroupChanged(change) => {
                f.debug_tuple("ProcessGroupChanged").field(change).finish()
            }
        }
    }
}

impl fmt::Display for SupervisionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisionEvent::ActorStarted(c) => write!(f, "{c} started"),
            SupervisionEvent::ActorFailed(c, e) => write!(f, "{c} failed: {e}"),
            SupervisionEvent::ActorTerminated(c, _, Some(r)) => write!(f, "{c} stopped: {r}"),
            SupervisionEvent::ActorTerminated(c, _, None) => write!(f, "{c} stopped"),
            SupervisionEvent::ActorDown(c, r) => write!(f, "{c} down ({r})"),
            SupervisionEvent::ProcessGroupChanged(change) => write!(f, "group change: {change:?}"),
        }
    }
}

/// An ended actor's final state, handed to its supervisor once.
///
/// ```
/// use ensemble::BoxedState;
/// let mut state = BoxedState::new(41_u32);
/// assert!(state.take::<String>().is_err()); // wrong type: left in place
/// assert_eq!(state.take::<u32>().unwrap(), 41);
/// assert!(state.take::<u32>().is_err()); // already taken
/// ```
pub struct BoxedState(Option<Box<dyn Any + Send>>);

impl BoxedState {
    /// Boxes a state.
    pub fn new<S: Send + 'static>(state: S) -> Self {
        BoxedState(Some(Box::new(state)))
    }

    /// Takes the state out if it is an `S`. A wrong type leaves it in place.
    pub fn take<S: 'static>(&mut self) -> Result<S, BoxedStateError> {
        match self.0.take() {
            None => Err(BoxedStateError::AlreadyTaken),
            Some(b) => match b.downcast::<S>() {
                Ok(s) => Ok(*s),
                Err(b) => {
                    self.0 = Some(b);
                    Err(BoxedStateError::WrongType)
                }
            },
        }
    }

    /// Whether the state is still inside.
    pub fn is_taken(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Debug for BoxedState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "BoxedState(..)"
        } else {
            "BoxedState(taken)"
        })
    }
}

/// Why [`BoxedState::take`] returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoxedStateError {
    /// The state was taken before.
    AlreadyTaken,
    /// The state is of another type; it was left in place.
    WrongType,
}

impl fmt::Display for BoxedStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoxedStateError::AlreadyTaken => f.write_str("the state was already taken"),
            BoxedStateError::WrongType => {
                f.write_str("the state is of another type than the one asked for")
            }
        }
    }
}

impl std::error::Error for BoxedStateError {}
