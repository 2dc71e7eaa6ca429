//! [`DerivedActorRef`]: a ref that takes a narrower message type and converts it.

use std::fmt;
use std::sync::Arc;

use crate::cell::Shared;
use crate::mailbox::{Pushed, Refused};
use crate::node::record_dead_letters;
use crate::{ActorCell, ActorId, ActorRef, SendError};

/// A ref to an actor whose message type `M` can be made `From` an `N`: it takes `N`s
/// and casts them as `M`s. Hand it to code that should send only some of the actor's
/// messages (an event type of its own, say) without knowing the actor's full type.
///
/// A refused message comes back as the `N` that was sent: the checks run before the
/// conversion. The conversion itself runs under the mailbox's lock; keep `From` cheap
/// (wrapping in an enum variant, as usual).
///
/// ```
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, DerivedActorRef};
///
/// struct Tick;
/// enum ClockMsg {
///     Tick(Tick),
///     Stop,
/// }
/// impl From<Tick> for ClockMsg {
///     fn from(t: Tick) -> Self {
///         ClockMsg::Tick(t)
///     }
/// }
///
/// struct Clock;
/// impl Actor for Clock {
///     type Msg = ClockMsg;
///     type State = u32;
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<ClockMsg>, _: ()) -> Result<u32, ActorProcessingErr> {
///         Ok(0)
///     }
///     async fn handle(&self, me: ActorRef<ClockMsg>, msg: ClockMsg, ticks: &mut u32) -> Result<(), ActorProcessingErr> {
///         match msg {
///             ClockMsg::Tick(_) => *ticks += 1,
///             ClockMsg::Stop => me.stop(None),
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (clock, handle) = Actor::spawn(None, Clock, ()).await.unwrap();
/// let ticker: DerivedActorRef<Tick> = clock.derived();
/// ticker.cast(Tick).unwrap();
/// clock.cast(ClockMsg::Stop).unwrap();
/// handle.await.unwrap();
/// assert!(matches!(ticker.cast(Tick), Err(ensemble::SendError::Closed(Tick))));
/// # }
/// ```
pub struct DerivedActorRef<N> {
    target: Arc<dyn Target<N>>,
}

/// The actor behind a derived ref, its message type erased.
trait Target<N>: Send + Sync {
    fn cast(&self, msg: N) -> Result<(), SendError<N>>;
    fn cell(&self) -> ActorCell;
}

struct Typed<M>(ActorRef<M>);

impl<M, N> Target<N> for Typed<M>
where
    M: From<N> + Send + 'static,
    N: Send + 'static,
{
    fn cast(&self, msg: N) -> Result<(), SendError<N>> {
        let shared: &Shared<M> = &self.0.inner;
        match shared.mailbox.push_with(msg, M::from) {
            Ok(Pushed::Queued) => Ok(()),
            Ok(Pushed::Shed(shed)) => {
                record_dead_letters(shared, 1, "shed: mailbox full");
                drop(shed);
                Ok(())
            }
            Err(Refused::Closed(n)) => Err(SendError::Closed(n)),
            Err(Refused::Full(n)) => Err(SendError::Full(n)),
        }
    }

    fn cell(&self) -> ActorCell {
        self.0.cell()
    }
}

impl<N: Send + 'static> DerivedActorRef<N> {
    /// Casts `msg`, converted into the actor's message type.
    ///
    /// # Errors
    /// As [`ActorRef::cast`], with the `N` handed back.
    pub fn cast(&self, msg: N) -> Result<(), SendError<N>> {
        self.target.cast(msg)
    }

    /// The actor's untyped handle.
    pub fn cell(&self) -> ActorCell {
        self.target.cell()
    }

    /// The actor's id.
    pub fn id(&self) -> ActorId {
        self.cell().id()
    }

    /// The actor's registered name, if any.
    pub fn name(&self) -> Option<String> {
        self.cell().name()
    }

    /// Asks the actor to stop; see [`ActorCell::stop`].
    pub fn stop(&self, reason: Option<String>) {
        self.cell().stop(reason);
    }

    #[doc(hidden)]
    #[deprecated(note = "ractor's name: use `cast`")]
    pub fn send_message(&self, msg: N) -> Result<(), SendError<N>> {
        self.cast(msg)
    }

    #[doc(hidden)]
    #[deprecated(note = "ractor's name: use `cell()`")]
    pub fn get_cell(&self) -> ActorCell {
        self.cell()
    }

    #[doc(hidden)]
    #[deprecated(note = "ractor's name: use `id()`")]
    pub fn get_id(&self) -> ActorId {
        self.id()
    }
}

impl<N> Clone for DerivedActorRef<N> {
    fn clone(&self) -> Self {
        DerivedActorRef {
            target: self.target.clone(),
        }
    }
}

impl<N: Send + 'static> fmt::Debug for DerivedActorRef<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DerivedActorRef({})", self.id())
    }
}

impl<M: Send + 'static> ActorRef<M> {
    /// A ref that takes `N`s and casts them as this actor's `M`s (`M: From<N>`).
    pub fn derived<N>(&self) -> DerivedActorRef<N>
    where
        M: From<N>,
        N: Send + 'static,
    {
        DerivedActorRef {
            target: Arc::new(Typed(self.clone())),
        }
    }

    #[doc(hidden)]
    #[deprecated(note = "ractor's name: use `derived::<N>()`")]
    pub fn get_derived<N>(&self) -> DerivedActorRef<N>
    where
        M: From<N>,
        N: Send + 'static,
    {
        self.derived()
    }
}

impl<M, N> From<ActorRef<M>> for DerivedActorRef<N>
where
    M: From<N> + Send + 'static,
    N: Send + 'static,
{
    fn from(actor: ActorRef<M>) -> Self {
        actor.derived()
    }
}
