//! [`Trace`]: every message an actor handles, as `sys:trace` shows them.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use ensemble::ActorRef;
use ensemble::testing::Directive;

/// A record of the messages an actor takes, in order (their `Debug` text), made by a
/// message hook in the actor's own task. [`install`](Self::install) replaces any other
/// hook on the actor (a [`FaultPlan`](crate::FaultPlan) too); [`stop`](Self::stop)
/// removes it.
///
/// ```
/// use ensemble::{Actor, ActorProcessingErr, ActorRef};
/// use ensemble_test::Trace;
///
/// struct Sink;
/// impl Actor for Sink {
///     type Msg = u32;
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<u32>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
///     async fn handle(&self, _: ActorRef<u32>, _: u32, _: &mut ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (sink, _) = Actor::spawn(None, Sink, ()).await.unwrap();
/// let trace = Trace::install(&sink);
/// sink.cast(1).unwrap();
/// sink.cast(2).unwrap();
/// sink.inspect(|_: &mut ()| ()).await.unwrap(); // both handled by now
/// assert_eq!(trace.messages(), ["1", "2"]);
/// # }
/// ```
#[derive(Clone)]
pub struct Trace {
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<dyn Fn() + Send + Sync>,
}

impl Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace").field("seen", &self.len()).finish()
    }
}

impl Trace {
    /// Starts tracing `actor`, recording each message's `Debug` text.
    pub fn install<M: Debug + Send + 'static>(actor: &ActorRef<M>) -> Trace {
        Trace::install_with(actor, |msg: &M| format!("{msg:?}"))
    }

    /// Starts tracing `actor`, recording what `describe` makes of each message (for
    /// messages without `Debug`, or to keep only what a test compares).
    pub fn install_with<M: Send + 'static>(
        actor: &ActorRef<M>,
        describe: impl Fn(&M) -> String + Send + Sync + 'static,
    ) -> Trace {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        actor.set_message_hook(move |msg: &M| {
            let line = describe(msg);
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
            Directive::Handle
        });
        let target = actor.clone();
        Trace {
            seen,
            stop: Arc::new(move || target.clear_message_hook()),
        }
    }

    /// The messages taken so far, in order.
    pub fn messages(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many messages were taken so far.
    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops tracing (removes the actor's message hook); what was recorded stays.
    pub fn stop(&self) {
        (self.stop)();
    }
}
