//! Worker pools: routing modes, restart of failed workers, resize, bounded intake,
//! drain.

use std::collections::{HashMap, HashSet};

use ensemble::pool::{Pool, PoolSpec, Routing};
use ensemble::{Actor, ActorId, ActorProcessingErr, ActorRef, Overflow, SendError, SpawnOptions};
use tokio::sync::{mpsc, oneshot};

enum Job {
    /// Reports (tag, the worker that handled it).
    Tag(u64, mpsc::UnboundedSender<(u64, ActorId)>),
    Panic,
    /// Waits for the gate (keeps the worker busy).
    Hold(oneshot::Receiver<()>),
}

struct PoolWorker;

impl Actor for PoolWorker {
    type Msg = Job;
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<Job>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
    async fn handle(
        &self,
        me: ActorRef<Job>,
        job: Job,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match job {
            Job::Tag(tag, out) => out.send((tag, me.id()))?,
            Job::Panic => panic!("worker crashed on a job"),
            Job::Hold(gate) => {
                let _ = gate.await;
            }
        }
        Ok(())
    }
}

fn spec(size: usize, routing: Routing) -> PoolSpec<PoolWorker> {
    PoolSpec::new(size, routing, || (PoolWorker, ()))
}

async fn collect(
    rx: &mut mpsc::UnboundedReceiver<(u64, ActorId)>,
    n: usize,
) -> Vec<(u64, ActorId)> {
    let mut v = Vec::new();
    while v.len() < n {
        v.push(rx.recv().await.expect("job result"));
    }
    v
}

#[tokio::test]
async fn round_robin_spreads_jobs_evenly() {
    let (pool, _) = Pool::start(SpawnOptions::new(), spec(4, Routing::RoundRobin))
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for tag in 0..40 {
        pool.submit(Job::Tag(tag, tx.clone())).unwrap();
    }
    let mut per: HashMap<ActorId, usize> = HashMap::new();
    for (_, w) in collect(&mut rx, 40).await {
        *per.entry(w).or_default() += 1;
    }
    assert_eq!(per.len(), 4);
    assert!(per.values().all(|&n| n == 10), "{per:?}");
}

#[tokio::test]
async fn by_key_the_same_key_always_reaches_the_same_worker() {
    let (pool, _) = Pool::start(SpawnOptions::new(), spec(4, Routing::ByKey))
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for round in 0..5u64 {
        for key in 0..20u64 {
            pool.submit_keyed(
                &format!("user-{key}"),
                Job::Tag(key * 100 + round, tx.clone()),
            )
            .unwrap();
        }
    }
    let mut owner: HashMap<u64, HashSet<ActorId>> = HashMap::new();
    for (tag, w) in collect(&mut rx, 100).await {
        owner.entry(tag / 100).or_default().insert(w);
    }
    assert!(
        owner.values().all(|ws| ws.len() == 1),
        "a key reached two workers"
    );
    let used: HashSet<_> = owner.values().flatten().collect();
    assert!(used.len() > 1, "keys spread over several workers");
}

#[tokio::test]
async fn least_loaded_avoids_a_busy_worker() {
    let (pool, _) = Pool::start(SpawnOptions::new(), spec(3, Routing::LeastLoaded))
        .await
        .unwrap();
    let workers = pool.workers().await.unwrap();
    // Make worker 0 busy: a job that holds, and more queued behind it than the other
    // workers will ever have (12 jobs over 2 idle workers is at most 6 each).
    let (gate_tx, gate_rx) = oneshot::channel();
    let busy = workers[0].clone().into_ref::<Job>().unwrap();
    busy.cast(Job::Hold(gate_rx)).unwrap();
    let (spare_tx, _spare_rx) = mpsc::unbounded_channel();
    for tag in 100..106 {
        busy.cast(Job::Tag(tag, spare_tx.clone())).unwrap();
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    for tag in 0..12 {
        pool.submit(Job::Tag(tag, tx.clone())).unwrap();
    }
    let done = collect(&mut rx, 12).await;
    assert!(
        done.iter().all(|(_, w)| *w != busy.id()),
        "no job went to the busy worker"
    );
    gate_tx.send(()).unwrap();
}

#[tokio::test]
async fn a_failed_worker_is_restarted_in_its_slot_and_the_pool_keeps_serving() {
    let (pool, _) = Pool::start(SpawnOptions::new(), spec(2, Routing::ByKey))
        .await
        .unwrap();
    let before = pool.workers().await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    pool.submit_keyed(&"k", Job::Tag(1, tx.clone())).unwrap();
    let (_, first) = collect(&mut rx, 1).await[0];
    let slot = before.iter().position(|c| c.id() == first).unwrap();
    pool.submit_keyed(&"k", Job::Panic).unwrap();
    before[slot].wait(None).await.unwrap();
    let after = pool.workers().await.unwrap();
    assert_ne!(
        after[slot].id(),
        before[slot].id(),
        "the slot has a new worker"
    );
    assert_eq!(
        after[1 - slot].id(),
        before[1 - slot].id(),
        "the other worker is untouched"
    );
    pool.submit_keyed(&"k", Job::Tag(2, tx.clone())).unwrap();
    assert_eq!(
        collect(&mut rx, 1).await[0],
        (2, after[slot].id()),
        "the key stays on its slot"
    );
}

#[tokio::test]
async fn resize_grows_and_shrinks_the_pool() {
    let (pool, _) = Pool::start(SpawnOptions::new(), spec(2, Routing::RoundRobin))
        .await
        .unwrap();
    pool.resize(5).await.unwrap();
    assert_eq!(pool.workers().await.unwrap().len(), 5);
    let before = pool.workers().await.unwrap();
    pool.resize(1).await.unwrap();
    let after = pool.workers().await.unwrap();
    assert_eq!(after.len(), 1);
    for removed in &before[1..] {
        removed.wait(None).await.unwrap(); // drained and gone
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    pool.submit(Job::Tag(7, tx)).unwrap();
    assert_eq!(collect(&mut rx, 1).await[0], (7, after[0].id()));
}

#[tokio::test]
async fn a_bounded_pool_refuses_a_flood_and_loses_nothing_it_accepted() {
    let options = SpawnOptions::new().capacity(8, Overflow::Reject);
    let (pool, handle) = Pool::start(options, spec(2, Routing::RoundRobin).worker_capacity(2))
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (mut accepted, mut refused) = (0usize, 0usize);
    for tag in 0..1000 {
        match pool.submit(Job::Tag(tag, tx.clone())) {
            Ok(()) => accepted += 1,
            Err(SendError::Full(Job::Tag(t, _))) => {
                assert_eq!(t, tag, "the refused job is handed back");
                refused += 1
            }
            Err(_) => panic!("unexpected error"),
        }
    }
    assert!(
        refused > 0,
        "a flood into a bound of 8 must be refused in part"
    );
    pool.drain().unwrap();
    handle.await.unwrap();
    drop(tx);
    let mut done = 0;
    while rx.recv().await.is_some() {
        done += 1;
    }
    assert_eq!(done, accepted, "every accepted job was handled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_finishes_every_queued_job_in_the_pool_and_its_workers() {
    let (pool, handle) = Pool::start(
        SpawnOptions::new(),
        spec(3, Routing::RoundRobin).worker_capacity(4),
    )
    .await
    .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for tag in 0..500 {
        pool.submit(Job::Tag(tag, tx.clone())).unwrap();
    }
    pool.drain().unwrap();
    assert!(
        pool.submit(Job::Tag(999, tx.clone()))
            .unwrap_err()
            .is_closed()
    );
    handle.await.unwrap();
    drop(tx);
    let mut tags = Vec::new();
    while let Some((t, _)) = rx.recv().await {
        tags.push(t);
    }
    tags.sort();
    assert_eq!(tags, (0..500).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_pool_can_be_a_supervisor_child() {
    use ensemble::supervisor::{ChildSpec, Supervisor, SupervisorFlags, SupervisorSpec};
    let sup_spec = SupervisorSpec::new(SupervisorFlags::default()).child(
        ChildSpec::new("pool", || (Pool::new(), spec(2, Routing::RoundRobin)))
            .name("supervised-pool"),
    );
    let (_sup, _) = Supervisor::start(None, sup_spec).await.unwrap();
    let pool = ActorRef::<ensemble::pool::PoolMsg<Job>>::where_is("supervised-pool").unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    pool.submit(Job::Tag(1, tx)).unwrap();
    assert_eq!(collect(&mut rx, 1).await[0].0, 1);
}
