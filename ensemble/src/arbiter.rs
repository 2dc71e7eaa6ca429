//! [`Arbiter`]: a thread with its own single-threaded runtime, for a group of actors that
//! mostly talk to each other.
//!
//! On tokio's multi-thread runtime, an actor may run on any worker, and a chain of
//! messages (a ring, ping-pong, a pipeline) can bounce between workers, paying a
//! cross-thread wake-up per hop. Actors spawned on one arbiter always run on its thread:
//! a hop is a local wake-up, as in actix's arbiters or an Erlang process bound to a
//! scheduler. Everything else keeps work stealing. Messages to and from other threads
//! work as usual (wake-ups are thread-safe); only placement changes.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A named thread running a current-thread tokio runtime (all drivers on), on which
/// actors can be placed with [`SpawnOptions::arbiter`](crate::SpawnOptions::arbiter).
/// An actor's `pre_start` runs in the spawning task, as always; from `post_start` on it
/// runs on the arbiter, and what it spawns there with default options (`tokio::spawn`,
/// `Actor::spawn`) does too: place the root of a chatty group, and the group follows.
///
/// Clones share the thread. It runs until [`stop`](Self::stop), or until the last clone
/// is dropped; then its runtime shuts down and every actor still on it ends as killed
/// (supervisors and monitors are told, names released, as when any runtime shuts down).
/// A handler that blocks the thread blocks every actor on the arbiter.
///
/// ```
/// use ensemble::{Actor, ActorProcessingErr, ActorRef, Arbiter, RpcReplyPort, SpawnOptions};
///
/// struct WhereAmI;
/// impl Actor for WhereAmI {
///     type Msg = RpcReplyPort<Option<String>>;
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
///     async fn handle(&self, _: ActorRef<Self::Msg>, reply: Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
///         Ok(reply.send(std::thread::current().name().map(str::to_owned))?)
///     }
/// }
///
/// # #[tokio::main]
/// # async fn main() {
/// let arbiter = Arbiter::new("ring").unwrap();
/// let options = SpawnOptions::new().arbiter(&arbiter);
/// let (actor, _) = Actor::spawn_with(options, WhereAmI, ()).await.unwrap();
/// let thread = actor.call(|reply| reply, None).await.unwrap();
/// assert_eq!(thread.as_deref(), Some("ensemble-arbiter-ring"));
/// arbiter.stop();
/// # }
/// ```
#[derive(Clone)]
pub struct Arbiter {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    handle: Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Arbiter {
    /// Starts an arbiter: a thread named `ensemble-arbiter-{name}` running a
    /// current-thread runtime.
    ///
    /// # Errors
    /// If the thread or its runtime cannot be created (out of threads or file
    /// descriptors).
    pub fn new(name: impl Into<String>) -> std::io::Result<Arbiter> {
        let name = name.into();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("ensemble-arbiter-{name}"))
            .spawn(move || {
                // Until stopped (or every `Arbiter` dropped); then the runtime, and the
                // actors still on it, go.
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                drop(runtime);
            })?;
        Ok(Arbiter {
            inner: Arc::new(Inner {
                name,
                handle,
                stop: Mutex::new(Some(stop)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// The arbiter's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The runtime's handle: spawn plain tasks on the arbiter's thread with it.
    pub fn handle(&self) -> &Handle {
        &self.inner.handle
    }

    /// Stops the arbiter: its runtime shuts down and every actor still on it ends as
    /// killed. Returns at once; [`join`](Self::join) waits for the thread.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Waits until the arbiter's thread has ended (after [`stop`](Self::stop)). Does not
    /// wait when called on the arbiter's own thread, or a second time.
    pub fn join(&self) {
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            if thread.thread().id() == std::thread::current().id() {
                return;
            }
            let _ = thread.join();
        }
    }
}

impl Inner {
    fn stop(&self) {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping may happen on the arbiter's own thread (the last clone held by one of
        // its actors): signal, never join.
        self.stop();
    }
}

impl fmt::Debug for Arbiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Arbiter({})", self.inner.name)
    }
}
