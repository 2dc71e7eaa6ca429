//! What a supervisor is told: its flags (strategy, intensity, backoff) and child specs.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::{Actor, ActorCell, MailboxConfig, Shutdown, SpawnError, SpawnOptions};

use super::Supervisor;

/// Which children a supervisor restarts when one of them must be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Only the child that ended.
    #[default]
    OneForOne,
    /// Every child: the others are shut down (in reverse start order), then all are
    /// started again in spec order.
    OneForAll,
    /// The child that ended and every child after it in spec order.
    RestForOne,
}

/// When a child is restarted after it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Restart {
    /// Always restarted.
    #[default]
    Permanent,
    /// Restarted only if it ended abnormally (failed or was killed); a normal stop
    /// leaves it stopped, its spec kept.
    Transient,
    /// Never restarted; its spec is removed when it ends.
    Temporary,
}

/// Whether a child is a worker or itself a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChildKind {
    /// An ordinary actor.
    #[default]
    Worker,
    /// A supervisor. [`ChildSpec::supervisor`] gives it [`Shutdown::Infinity`] so it can
    /// shut its own tree down in order; set that yourself when marking a spec built
    /// with [`ChildSpec::new`] as a supervisor.
    Supervisor,
}

/// Exponential restart backoff with jitter.
///
/// The n-th consecutive restart of a child (n counted from 0) waits
/// `min(max, min_delay × factor^n)`, stretched by a random fraction of up to `jitter`.
/// A child that ran for at least `reset_after` before ending starts again from n = 0.
///
/// ```
/// use std::time::Duration;
/// use ensemble::supervisor::Backoff;
/// let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(b.delay(0, 0.0), Duration::from_millis(100));
/// assert_eq!(b.delay(2, 0.0), Duration::from_millis(400));
/// assert_eq!(b.delay(10, 0.0), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
    reset_after: Duration,
}

impl Backoff {
    /// Doubling from `min` up to `max`, no jitter, reset after `max × 10` of stable run.
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max: max.max(min),
            factor: 2.0,
            jitter: 0.0,
            reset_after: max.max(min).saturating_mul(10),
        }
    }

    /// The growth factor per consecutive restart (at least 1).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Up to this fraction (0 to 1) of the delay is added at random, so that children
    /// failing together do not restart in lockstep.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// How long a child must run for its next restart to start from the minimum again.
    pub fn reset_after(mut self, stable: Duration) -> Self {
        self.reset_after = stable;
        self
    }

    /// The stable run time after which the delay resets.
    pub fn reset_period(&self) -> Duration {
        self.reset_after
    }

    /// The delay before restart number `attempt` (from 0), with `random` in `[0, 1)`
    /// choosing the jitter.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let base = self.min.as_secs_f64() * self.factor.powi(attempt.min(1024) as i32);
        let capped = base.min(self.max.as_secs_f64());
        let jittered = capped * (1.0 + self.jitter * random.clamp(0.0, 1.0));
        Duration::try_from_secs_f64(jittered).unwrap_or(self.max)
    }
}

/// A supervisor's flags: strategy, restart intensity and optional backoff.
///
/// The default is OTP's: `OneForOne`, at most 1 restart in 5 seconds, no backoff.
///
/// Restart intensity is OTP's: if more than `max_restarts` restarts happen within any
/// `max_period`, the supervisor shuts every child down and fails upward with
/// [`IntensityExceeded`](super::IntensityExceeded). `max_restarts = 0` means "never
/// restart": the first restart fails the supervisor, whatever the period. As in OTP, the
/// period must be above zero otherwise (a zero-length window would count nothing and so
/// allow unbounded restarts): a supervisor whose flags say `intensity(n, Duration::ZERO)`
/// with `n > 0` refuses to start, with an error saying so.
///
/// ```
/// use std::time::Duration;
/// use ensemble::supervisor::{Strategy, SupervisorFlags};
/// assert!(SupervisorFlags::new(Strategy::OneForOne).intensity(3, Duration::from_secs(10)).check().is_ok());
/// assert!(SupervisorFlags::new(Strategy::OneForOne).intensity(0, Duration::ZERO).check().is_ok());
/// assert!(SupervisorFlags::new(Strategy::OneForOne).intensity(3, Duration::ZERO).check().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SupervisorFlags {
    /// Which children restart together.
    pub strategy: Strategy,
    /// At most this many restarts…
    pub max_restarts: u32,
    /// …within this period; one more and the supervisor shuts every child down and fails.
    pub max_period: Duration,
    /// Wait before restarting, growing with consecutive restarts.
    pub backoff: Option<Backoff>,
}

impl Default for SupervisorFlags {
    fn default() -> Self {
        SupervisorFlags {
            strategy: Strategy::OneForOne,
            max_restarts: 1,
            max_period: Duration::from_secs(5),
            backoff: None,
        }
    }
}

impl SupervisorFlags {
    /// Flags with this strategy and OTP's default intensity (1 restart in 5 s).
    pub fn new(strategy: Strategy) -> Self {
        SupervisorFlags {
            strategy,
            ..Default::default()
        }
    }

    /// Allows `max_restarts` restarts within `period` (above zero unless `max_restarts`
    /// is 0; see [`check`](Self::check)). `u32::MAX` restarts means no practical limit.
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Self {
        self.max_restarts = max_restarts;
        self.max_period = period;
        self
    }

    /// Whether a supervisor can start with these flags: `Err` with the reason if
    /// `max_restarts > 0` and `max_period` is zero (see the type's documentation).
    pub fn check(&self) -> Result<(), String> {
        if self.max_restarts > 0 && self.max_period.is_zero() {
            return Err(format!(
                "restart intensity {} in a period of zero: the period must be above zero \
                 (a zero-length window counts nothing, so restarts would never be limited); \
                 use intensity({}, period) with a period such as 5 s, or intensity(0, _) \
                 to fail on the first restart",
                self.max_restarts, self.max_restarts
            ));
        }
        Ok(())
    }

    /// Waits before each restart as `backoff` says.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }
}

/// What a supervisor starts with: its flags and its children, in start order.
pub struct SupervisorSpec {
    /// Strategy, intensity and backoff.
    pub flags: SupervisorFlags,
    /// The children, started in this order and shut down in reverse.
    pub children: Vec<ChildSpec>,
}

impl SupervisorSpec {
    /// A spec with these flags and no children yet.
    pub fn new(flags: SupervisorFlags) -> Self {
        SupervisorSpec {
            flags,
            children: Vec::new(),
        }
    }

    /// Adds a child at the end.
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }
}

type StartFuture = Pin<Box<dyn Future<Output = Result<ActorCell, SpawnError>> + Send>>;
type StartFn = dyn Fn(SpawnOptions) -> StartFuture + Send + Sync;

/// How to start (and restart) one child.
///
/// The factory is called for every start and restart, so each incarnation gets a fresh
/// actor and fresh arguments; neither needs `Clone`.
///
/// ```
/// use std::time::Duration;
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, Shutdown};
/// use ensemble::supervisor::{ChildSpec, Restart};
/// struct Worker;
/// impl Actor for Worker {
///     type Msg = ();
///     type State = ();
///     type Arguments = u32;
///     async fn pre_start(&self, _: ActorRef<()>, _: u32) -> Result<(), ActorProcessingErr> { Ok(()) }
/// }
/// let spec = ChildSpec::new("worker", || (Worker, 7))
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)))
///     .name("worker-1");
/// assert_eq!(spec.id(), "worker");
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    pub(super) id: String,
    pub(super) start: Arc<StartFn>,
    pub(super) restart: Restart,
    pub(super) shutdown: Shutdown,
    pub(super) kind: ChildKind,
    pub(super) name: Option<String>,
    pub(super) mailbox: MailboxConfig,
    /// Whether `start` itself links the child (`new`, `supervisor`); a `custom` start
    /// may not, and the supervisor then links it.
    pub(super) links_itself: bool,
}

impl ChildSpec {
    /// A permanent worker child whose incarnations `factory` builds. Default shutdown:
    /// stop, then kill after 5 seconds (OTP's default).
    pub fn new<A, F>(id: impl Into<String>, factory: F) -> Self
    where
        A: Actor,
        F: Fn() -> (A, A::Arguments) + Send + Sync + 'static,
    {
        let start = move |options: SpawnOptions| -> StartFuture {
            let (actor, args) = factory();
            Box::pin(async move {
                let (child, _) = A::spawn_with(options, actor, args).await?;
                Ok(child.cell())
            })
        };
        ChildSpec {
            id: id.into(),
            start: Arc::new(start),
            restart: Restart::Permanent,
            shutdown: Shutdown::Timeout(Duration::from_secs(5)),
            kind: ChildKind::Worker,
            name: None,
            mailbox: MailboxConfig::unbounded(),
            links_itself: true,
        }
    }

    /// A permanent worker child started by `start`, which is given the spawn options
    /// (the supervisor to link to, the registered name and the mailbox of the spec) and
    /// returns the started child's cell, linked to that supervisor. For children that
    /// are not spawned with [`Actor::spawn_with`], such as actors placed on another node
    /// of a cluster; `start` is called for every start and restart.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use ensemble::{Actor, ActorProcessingErr, ActorRef};
    /// use ensemble::supervisor::{ChildSpec, Supervisor, SupervisorFlags, SupervisorSpec};
    /// struct Worker;
    /// impl Actor for Worker {
    ///     type Msg = ();
    ///     type State = ();
    ///     type Arguments = ();
    ///     async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
    /// }
    /// let spec = ChildSpec::custom("worker", |options| async move {
    ///     assert!(options.parent().is_some());
    ///     let (child, _) = Actor::spawn_with(options, Worker, ()).await?;
    ///     Ok(child.cell())
    /// });
    /// let tree = SupervisorSpec::new(SupervisorFlags::default()).child(spec);
    /// let (sup, handle) = Supervisor::start(None, tree).await.unwrap();
    /// assert_eq!(sup.cell().children().len(), 1);
    /// sup.stop(None);
    /// handle.await.unwrap();
    /// # }
    /// ```
    pub fn custom<F, Fut>(id: impl Into<String>, start: F) -> Self
    where
        F: Fn(SpawnOptions) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ActorCell, SpawnError>> + Send + 'static,
    {
        let start = move |options: SpawnOptions| -> StartFuture { Box::pin(start(options)) };
        ChildSpec {
            id: id.into(),
            start: Arc::new(start),
            restart: Restart::Permanent,
            shutdown: Shutdown::Timeout(Duration::from_secs(5)),
            kind: ChildKind::Worker,
            name: None,
            mailbox: MailboxConfig::unbounded(),
            links_itself: false,
        }
    }

    /// A permanent child that is itself a supervisor, built by `spec` at every start.
    /// Its shutdown is [`Shutdown::Infinity`].
    pub fn supervisor<F>(id: impl Into<String>, spec: F) -> Self
    where
        F: Fn() -> SupervisorSpec + Send + Sync + 'static,
    {
        ChildSpec::new(id, move || (Supervisor, spec()))
            .kind(ChildKind::Supervisor)
            .shutdown(Shutdown::Infinity)
    }

    /// Sets when the child is restarted.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how the child is shut down.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Marks the child as a worker or a supervisor (for `count_children`).
    pub fn kind(mut self, kind: ChildKind) -> Self {
        self.kind = kind;
        self
    }

    /// Registers every incarnation under this name.
    pub fn name(mut self, registered_name: impl Into<String>) -> Self {
        self.name = Some(registered_name.into());
        self
    }

    /// Gives every incarnation this mailbox (bound and overflow policy).
    pub fn mailbox(mut self, mailbox: MailboxConfig) -> Self {
        self.mailbox = mailbox;
        self
    }

    /// The child's id, unique within its supervisor.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// When the child is restarted.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// How the child is shut down.
    pub fn shutdown_policy(&self) -> Shutdown {
        self.shutdown
    }

    /// Worker or supervisor.
    pub fn child_kind(&self) -> ChildKind {
        self.kind
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("mailbox", &self.mailbox)
            .finish_non_exhaustive()
    }
}
