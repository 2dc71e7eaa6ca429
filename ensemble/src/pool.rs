//! Worker pools: an actor that owns N linked workers and routes jobs to them.
//!
//! Routing is round-robin, by key (the same key reaches the same worker slot, the
//! article's "each actor owns a shard of the keyspace"), or to the least-loaded worker.
//! A worker that fails is restarted in its slot and the pool keeps serving. The pool's
//! own mailbox can be bounded with any [`Overflow`] policy; each
//! worker's mailbox holds at most `worker_capacity` jobs, and a full worker makes the
//! pool wait, so a flood backs up into the pool's bound instead of growing without end.
//! Draining the pool finishes every queued job (its own and its workers') and then stops.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use ensemble::pool::{Pool, PoolSpec, Routing};
//! use ensemble::{Actor, ActorProcessingErr, ActorRef, SpawnOptions};
//! struct Square;
//! impl Actor for Square {
//!     type Msg = (u64, tokio::sync::mpsc::UnboundedSender<u64>);
//!     type State = ();
//!     type Arguments = ();
//!     async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> { Ok(()) }
//!     async fn handle(&self, _: ActorRef<Self::Msg>, (n, out): Self::Msg, _: &mut ()) -> Result<(), ActorProcessingErr> {
//!         out.send(n * n)?;
//!         Ok(())
//!     }
//! }
//! let spec = PoolSpec::new(4, Routing::RoundRobin, || (Square, ()));
//! let (pool, handle) = Pool::start(SpawnOptions::new(), spec).await.unwrap();
//! let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
//! for n in 1..=10 {
//!     pool.submit((n, tx.clone())).unwrap();
//! }
//! pool.drain().unwrap(); // finish every job, then stop
//! handle.await.unwrap();
//! drop(tx);
//! let mut sum = 0;
//! while let Some(v) = rx.recv().await { sum += v; }
//! assert_eq!(sum, 385);
//! # }
//! ```

use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::{
    Actor, ActorCell, ActorProcessingErr, ActorRef, MailboxConfig, Overflow, RpcReplyPort,
    SendError, SpawnError, SpawnOptions, SupervisionEvent,
};

/// How a pool picks a worker for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Routing {
    /// Each worker in turn.
    #[default]
    RoundRobin,
    /// By the job's key: the same key always reaches the same worker slot (a restarted
    /// worker takes over its slot). Jobs without a key go round-robin.
    ByKey,
    /// The worker with the fewest jobs received but not yet handled (ties round-robin).
    LeastLoaded,
}

type Factory<W> = Arc<dyn Fn() -> (W, <W as Actor>::Arguments) + Send + Sync>;

/// What a pool starts with.
pub struct PoolSpec<W: Actor> {
    size: usize,
    routing: Routing,
    worker_capacity: usize,
    factory: Factory<W>,
}

impl<W: Actor> PoolSpec<W> {
    /// `size` workers (at least 1), built by `factory`, routed by `routing`; each worker
    /// holds at most 64 waiting jobs.
    pub fn new<F>(size: usize, routing: Routing, factory: F) -> Self
    where
        F: Fn() -> (W, W::Arguments) + Send + Sync + 'static,
    {
        PoolSpec {
            size: size.max(1),
            routing,
            worker_capacity: 64,
            factory: Arc::new(factory),
        }
    }

    /// How many jobs may wait in each worker's mailbox before the pool waits for room.
    pub fn worker_capacity(mut self, capacity: usize) -> Self {
        self.worker_capacity = capacity.max(1);
        self
    }
}

/// The requests a pool handles.
#[non_exhaustive]
pub enum PoolMsg<M> {
    /// A job, with an optional routing key (see [`Routing::ByKey`]).
    Job(Option<u64>, M),
    /// Grows or shrinks the pool to this many workers (at least 1).
    Resize(usize, RpcReplyPort<()>),
    /// The live workers, by slot.
    Workers(RpcReplyPort<Vec<ActorCell>>),
}

/// The pool actor; start it with [`Pool::start`], or give `(Pool::new(), spec)` to a
/// [`ChildSpec`](crate::supervisor::ChildSpec) factory to run it under a supervisor.
pub struct Pool<W>(PhantomData<fn() -> W>);

impl<W> Pool<W> {
    /// The pool actor value (it carries no data; the spec is its argument).
    pub fn new() -> Self {
        Pool(PhantomData)
    }
}

impl<W> Default for Pool<W> {
    fn default() -> Self {
        Self::new()
    }
}

/// A pool's private state.
pub struct PoolState<W: Actor> {
    spec: PoolSpec<W>,
    workers: Vec<ActorRef<W::Msg>>,
    next: usize,
}

impl<W: Actor> Pool<W> {
    /// Starts a pool as `options` say (name, supervisor, and the pool's own mailbox bound
    /// and overflow policy) with the workers of `spec`.
    pub async fn start(
        options: SpawnOptions,
        spec: PoolSpec<W>,
    ) -> Result<(ActorRef<PoolMsg<W::Msg>>, JoinHandle<()>), SpawnError> {
        Actor::spawn_with(options, Pool::new(), spec).await
    }
}

impl<M: Send + 'static> ActorRef<PoolMsg<M>> {
    /// Submits a job (routed by the pool's policy; round-robin for `ByKey`). The job is
    /// handed back if the pool's mailbox is full or the pool has ended.
    pub fn submit(&self, job: M) -> Result<(), SendError<M>> {
        self.cast(PoolMsg::Job(None, job)).or_else(job_back)
    }

    /// Submits a job with a routing key; with [`Routing::ByKey`] the same key always
    /// reaches the same worker slot.
    pub fn submit_keyed<K: Hash>(&self, key: &K, job: M) -> Result<(), SendError<M>> {
        let key = KEY_HASHER.hash_one(key);
        self.cast(PoolMsg::Job(Some(key), job)).or_else(job_back)
    }

    /// Like [`submit`](Self::submit), waiting for room in a full `Wait` pool mailbox.
    pub async fn submit_wait(&self, job: M) -> Result<(), SendError<M>> {
        self.send(PoolMsg::Job(None, job)).await.or_else(job_back)
    }

    /// Resizes the pool; removed workers finish their queued jobs first.
    pub async fn resize(&self, size: usize) -> Result<(), crate::CallError<PoolMsg<M>>> {
        self.call(|r| PoolMsg::Resize(size, r), None).await
    }

    /// The live workers, by slot.
    pub async fn workers(&self) -> Result<Vec<ActorCell>, crate::CallError<PoolMsg<M>>> {
        self.call(PoolMsg::Workers, None).await
    }
}

/// Keys hash the same way for the life of the process.
static KEY_HASHER: std::sync::LazyLock<std::hash::RandomState> =
    std::sync::LazyLock::new(std::hash::RandomState::new);

/// Hands a refused job back as a `SendError<M>`.
fn job_back<M>(e: SendError<PoolMsg<M>>) -> Result<(), SendError<M>> {
    let full = e.is_full();
    match e.into_inner() {
        PoolMsg::Job(_, job) if full => Err(SendError::Full(job)),
        PoolMsg::Job(_, job) => Err(SendError::Closed(job)),
        // `submit*` only ever sends jobs; anything else carried no job to hand back.
        _ => Ok(()),
    }
}

impl<W: Actor> PoolState<W> {
    async fn spawn_worker(
        &self,
        pool: &ActorRef<PoolMsg<W::Msg>>,
    ) -> Result<ActorRef<W::Msg>, SpawnError> {
        let (worker, args) = (self.spec.factory)();
        let options = SpawnOptions::new()
            .supervisor(pool.cell())
            .mailbox(MailboxConfig::bounded(
                self.spec.worker_capacity,
                Overflow::Wait,
            ));
        Ok(W::spawn_with(options, worker, args).await?.0)
    }

    fn pick(&mut self, key: Option<u64>) -> usize {
        let n = self.workers.len();
        match (self.spec.routing, key) {
            (Routing::ByKey, Some(k)) => (k % n as u64) as usize,
            (Routing::LeastLoaded, _) => {
                // Ties go round-robin, so equal workers share the work.
                let start = self.next;
                let pick = (start..start + n)
                    .map(|i| i % n)
                    .min_by_key(|&i| {
                        let s = self.workers[i].stats();
                        s.received - s.handled
                    })
                    .unwrap_or(0);
                self.next = pick + 1;
                pick
            }
            _ => {
                let pick = self.next % n;
                self.next = (pick + 1) % n;
                pick
            }
        }
    }
}

impl<W: Actor> Actor for Pool<W> {
    type Msg = PoolMsg<W::Msg>;
    type State = PoolState<W>;
    type Arguments = PoolSpec<W>;

    async fn pre_start(
        &self,
        me: ActorRef<Self::Msg>,
        spec: PoolSpec<W>,
    ) -> Result<PoolState<W>, ActorProcessingErr> {
        let mut state = PoolState {
            workers: Vec::with_capacity(spec.size),
            spec,
            next: 0,
        };
        for _ in 0..state.spec.size {
            let worker = state.spawn_worker(&me).await?;
            state.workers.push(worker);
        }
        Ok(state)
    }

    async fn handle(
        &self,
        me: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut PoolState<W>,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            PoolMsg::Job(key, job) => {
                let i = state.pick(key);
                // Wait for room: a full worker holds the pool back (backpressure).
                if let Err(SendError::Closed(job)) = state.workers[i].send(job).await {
                    // The worker ended and its end has not reached us yet: replace it now.
                    state.workers[i] = state.spawn_worker(&me).await?;
                    if state.workers[i].send(job).await.is_err() {
                        return Err("a freshly started pool worker refused a job".into());
                    }
                }
            }
            PoolMsg::Resize(size, reply) => {
                let size = size.max(1);
                while state.workers.len() < size {
                    let worker = state.spawn_worker(&me).await?;
                    state.workers.push(worker);
                }
                while state.workers.len() > size {
                    if let Some(worker) = state.workers.pop() {
                        worker.cell().unlink(me.cell());
                        let _ = worker.drain();
                    }
                }
                let _ = reply.send(());
            }
            PoolMsg::Workers(reply) => {
                let _ = reply.send(state.workers.iter().map(ActorRef::cell).collect());
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        me: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        state: &mut PoolState<W>,
    ) -> Result<(), ActorProcessingErr> {
        let (id, why) = match &evt {
            SupervisionEvent::ActorFailed(cell, err) => (cell.id(), err.to_string()),
            SupervisionEvent::ActorTerminated(cell, _, reason) => (
                cell.id(),
                reason.clone().unwrap_or_else(|| "stopped".into()),
            ),
            _ => return Ok(()),
        };
        if let Some(i) = state.workers.iter().position(|w| w.id() == id) {
            tracing::info!(pool = %me.id(), slot = i, reason = %why, "restarting pool worker");
            state.workers[i] = state.spawn_worker(&me).await?;
        }
        Ok(())
    }
}
