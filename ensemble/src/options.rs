//! `SpawnOptions`: everything about a spawn besides the actor and its arguments.

use crate::{ActorCell, ActorSystem, Arbiter, MailboxConfig, Overflow};

/// How to spawn an actor: its name, its supervisor, its mailbox and its system.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, Overflow, SendError, SpawnOptions};
/// struct Slow;
/// impl Actor for Slow {
///     type Msg = u32;
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<u32>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
/// }
/// let options = SpawnOptions::new().name("bounded-doc").capacity(2, Overflow::Reject);
/// let (slow, _) = Actor::spawn_with(options, Slow, ()).await.unwrap();
/// slow.cast(1).unwrap();
/// slow.cast(2).unwrap();
/// assert!(matches!(slow.cast(3), Err(SendError::Full(3)))); // the actor has not run yet
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    pub(crate) name: Option<String>,
    pub(crate) supervisor: Option<ActorCell>,
    pub(crate) mailbox: MailboxConfig,
    pub(crate) system: Option<ActorSystem>,
    pub(crate) arbiter: Option<Arbiter>,
}

impl SpawnOptions {
    /// No name, no supervisor, an unbounded mailbox.
    pub fn new() -> Self {
        SpawnOptions::default()
    }

    /// Registers the actor under `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Links the actor to `supervisor` as its child (as `spawn_linked`).
    pub fn supervisor(mut self, supervisor: ActorCell) -> Self {
        self.supervisor = Some(supervisor);
        self
    }

    /// Uses this mailbox configuration.
    pub fn mailbox(mut self, mailbox: MailboxConfig) -> Self {
        self.mailbox = mailbox;
        self
    }

    /// Spawns the actor into `system` (its names, groups and dead-letter counts). Without
    /// it, the actor joins its supervisor's system, or the global one.
    pub fn system(mut self, system: &ActorSystem) -> Self {
        self.system = Some(system.clone());
        self
    }

    /// Runs the actor on `arbiter`'s thread instead of the current runtime (see
    /// [`Arbiter`]). `pre_start` runs in the spawning task, as for every actor; from
    /// `post_start` on the actor lives on the arbiter, and what it spawns there with default
    /// options (children, tasks) does too. Children spawned in `pre_start` need the option
    /// themselves.
    pub fn arbiter(mut self, arbiter: &Arbiter) -> Self {
        self.arbiter = Some(arbiter.clone());
        self
    }

    /// Bounds the mailbox to `capacity` waiting messages with `overflow` for one more.
    pub fn capacity(self, capacity: usize, overflow: Overflow) -> Self {
        self.mailbox(MailboxConfig::bounded(capacity, overflow))
    }

    /// The name the actor will be registered under, if any.
    pub fn registered_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The supervisor the actor will be linked to, if any.
    pub fn parent(&self) -> Option<&ActorCell> {
        self.supervisor.as_ref()
    }

    /// The mailbox configuration.
    pub fn mailbox_config(&self) -> MailboxConfig {
        self.mailbox
    }

    /// The system the actor will join, if one was chosen.
    pub fn actor_system(&self) -> Option<&ActorSystem> {
        self.system.as_ref()
    }
}
