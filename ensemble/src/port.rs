//! Pub/sub output ports: an actor (or any code) publishes values to subscribed actors.
//!
//! Each subscriber maps the published value into its own message type (or skips it by
//! returning `None`) and chooses what happens when it is slow, that is, when its
//! mailbox is bounded and full: [`SlowPolicy::DropAndCount`] drops the value for that
//! subscriber and counts it; [`SlowPolicy::Backpressure`] makes
//! [`OutputPort::publish_wait`] wait for room. Nothing is dropped without being counted.
//! Subscribers that have ended are removed.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use ensemble::port::{OutputPort, SlowPolicy};
//! use ensemble::{Actor, ActorProcessingErr, ActorRef};
//! struct Printer;
//! impl Actor for Printer {
//!     type Msg = String;
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<String>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
//! }
//! let (printer, _) = Actor::spawn(None, Printer, ()).await.unwrap();
//! let prices: OutputPort<f64> = OutputPort::new();
//! let sub = prices.subscribe_with(&printer, |p| Some(format!("price {p}")), SlowPolicy::DropAndCount);
//! prices.publish(101.5);
//! assert_eq!(sub.delivered(), 1);
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::{ActorId, ActorRef, SendError};

/// What to do with a value for a subscriber whose bounded mailbox is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SlowPolicy {
    /// Drop the value for this subscriber and count it ([`Subscription::dropped`]).
    #[default]
    DropAndCount,
    /// [`OutputPort::publish_wait`] waits until the subscriber has room (give it a
    /// mailbox with [`Overflow::Wait`](crate::Overflow::Wait)). The non-waiting
    /// [`OutputPort::publish`] still drops and counts.
    Backpressure,
}

type Waiting<'a> = Pin<Box<dyn Future<Output = Delivery> + Send + 'a>>;

enum Delivery {
    Delivered,
    Skipped,
    Full,
    Gone,
}

/// One subscriber, with its message type erased.
trait Sink<T>: Send + Sync {
    fn alive(&self) -> bool;
    fn offer(&self, value: T) -> Delivery;
    fn offer_wait(&self, value: T) -> Waiting<'_>;
}

struct ActorSink<M, F> {
    actor: ActorRef<M>,
    map: F,
}

impl<T, M, F> Sink<T> for ActorSink<M, F>
where
    T: Send + 'static,
    M: Send + 'static,
    F: Fn(T) -> Option<M> + Send + Sync,
{
    fn alive(&self) -> bool {
        self.actor.status().is_alive()
    }

    fn offer(&self, value: T) -> Delivery {
        match (self.map)(value) {
            None => Delivery::Skipped,
            Some(msg) => match self.actor.cast(msg) {
                Ok(()) => Delivery::Delivered,
                Err(SendError::Full(_)) => Delivery::Full,
                Err(_) => Delivery::Gone,
            },
        }
    }

    fn offer_wait(&self, value: T) -> Waiting<'_> {
        let msg = (self.map)(value);
        Box::pin(async move {
            match msg {
                None => Delivery::Skipped,
                Some(msg) => match self.actor.send(msg).await {
                    Ok(()) => Delivery::Delivered,
                    Err(SendError::Full(_)) => Delivery::Full,
                    Err(_) => Delivery::Gone,
                },
            }
        })
    }
}

struct Subscriber<T> {
    actor: ActorId,
    sink: Box<dyn Sink<T>>,
    policy: SlowPolicy,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    delivered: AtomicU64,
    dropped: AtomicU64,
    cancelled: AtomicBool,
}

/// A typed pub/sub port. Cheap to clone; clones publish to the same subscribers.
pub struct OutputPort<T> {
    subscribers: Arc<Mutex<Vec<Arc<Subscriber<T>>>>>,
}

impl<T> Clone for OutputPort<T> {
    fn clone(&self) -> Self {
        OutputPort {
            subscribers: self.subscribers.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> Default for OutputPort<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A subscription's counters; [`unsubscribe`](Self::unsubscribe) ends it. Dropping it
/// keeps the subscription.
#[derive(Clone)]
pub struct Subscription {
    counts: Arc<Counts>,
}

impl Subscription {
    /// Values accepted by the subscriber's mailbox (a `DropOldest`/`DropNewest` mailbox
    /// may still shed them; that is counted in the subscriber's own stats).
    pub fn delivered(&self) -> u64 {
        self.counts.delivered.load(Ordering::Relaxed)
    }

    /// Values dropped because the subscriber was full (never silently: they are here).
    pub fn dropped(&self) -> u64 {
        self.counts.dropped.load(Ordering::Relaxed)
    }

    /// Stops delivering to this subscriber.
    pub fn unsubscribe(&self) {
        self.counts.cancelled.store(true, Ordering::Relaxed);
    }
}

impl<T: Clone + Send + 'static> OutputPort<T> {
    /// A port with no subscribers.
    pub fn new() -> Self {
        OutputPort {
            subscribers: Arc::default(),
        }
    }

    fn list(&self) -> MutexGuard<'_, Vec<Arc<Subscriber<T>>>> {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Subscribes `actor`: each published value goes through `map` (`None` skips it) and
    /// is cast to the actor; for a full mailbox, the default [`SlowPolicy`] (drop and
    /// count). The same shape as ractor's `OutputPort::subscribe`.
    pub fn subscribe<M, F>(&self, actor: ActorRef<M>, map: F) -> Subscription
    where
        M: Send + 'static,
        F: Fn(T) -> Option<M> + Send + Sync + 'static,
    {
        self.subscribe_with(&actor, map, SlowPolicy::default())
    }

    /// Subscribes `actor`: each published value goes through `map` (`None` skips it) and
    /// is cast to the actor, a full mailbox handled by `policy`.
    pub fn subscribe_with<M, F>(
        &self,
        actor: &ActorRef<M>,
        map: F,
        policy: SlowPolicy,
    ) -> Subscription
    where
        M: Send + 'static,
        F: Fn(T) -> Option<M> + Send + Sync + 'static,
    {
        let counts = Arc::new(Counts::default());
        self.list().push(Arc::new(Subscriber {
            actor: actor.id(),
            sink: Box::new(ActorSink {
                actor: actor.clone(),
                map,
            }),
            policy,
            counts: counts.clone(),
        }));
        Subscription { counts }
    }

    /// How many subscribers the port has.
    pub fn subscribers(&self) -> usize {
        let mut list = self.list();
        list.retain(|s| !s.counts.cancelled.load(Ordering::Relaxed) && s.sink.alive());
        list.len()
    }

    fn snapshot(&self) -> Vec<Arc<Subscriber<T>>> {
        let mut list = self.list();
        list.retain(|s| !s.counts.cancelled.load(Ordering::Relaxed));
        list.clone()
    }

    fn settle(&self, sub: &Subscriber<T>, delivery: Delivery) {
        match delivery {
            Delivery::Delivered => {
                sub.counts.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Delivery::Skipped => {}
            Delivery::Full => {
                sub.counts.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(subscriber = %sub.actor, "port value dropped: subscriber full");
            }
            Delivery::Gone => {
                sub.counts.cancelled.store(true, Ordering::Relaxed);
                let id = sub.actor;
                self.list().retain(|s| s.actor != id);
            }
        }
    }

    /// Publishes to every subscriber without waiting; a full subscriber misses the value
    /// (counted). Returns how many subscribers received it.
    pub fn publish(&self, value: T) -> usize {
        let mut delivered = 0;
        for sub in self.snapshot() {
            let d = sub.sink.offer(value.clone());
            delivered += usize::from(matches!(d, Delivery::Delivered));
            self.settle(&sub, d);
        }
        delivered
    }

    /// Publishes to every subscriber, waiting for room at those with
    /// [`SlowPolicy::Backpressure`]. Returns how many subscribers received it.
    pub async fn publish_wait(&self, value: T) -> usize {
        let mut delivered = 0;
        for sub in self.snapshot() {
            let d = match sub.policy {
                SlowPolicy::Backpressure => sub.sink.offer_wait(value.clone()).await,
                _ => sub.sink.offer(value.clone()),
            };
            delivered += usize::from(matches!(d, Delivery::Delivered));
            self.settle(&sub, d);
        }
        delivered
    }
}
