//! The node process: a cluster node with a few workers, a watcher and a workload, driven
//! by commands on stdin ([`Command`]), writing its history on stdout ([`Record`]).
//!
//! - **Workers** join the group `chaos.workers`; each logs every message it receives.
//! - **The workload** finds the other nodes' workers through the group, asks each its key
//!   once (a call), then casts sequenced messages to them round-robin at the rate asked
//!   for, every fifth one a call with a timeout; each send, call and reply is logged.
//! - **The watcher** monitors every remote worker it learns of and logs when a monitor
//!   fires; a worker whose monitor fired is watched again if it comes back (a node that
//!   rejoined as a new incarnation).
//! - **Membership** events are logged as they come.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ensemble::{
    Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SpawnOptions, SupervisionEvent,
};
use ensemble_cluster::faults::Direction;
use ensemble_cluster::{ClusterEvent, DownReason, Node, NodeConfig, RemoteMessage, TlsConfig};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncBufReadExt;

use crate::protocol::{Command, Event, Fault, Record};

/// The group the workers join.
pub const GROUP: &str = "chaos.workers";
/// How long a workload call waits.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(1000);

/// How to start a node process.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// The node's name.
    pub name: String,
    /// Where it listens (`ip:port`).
    pub listen: String,
    /// Seeds (`ip:port`).
    pub seeds: Vec<String>,
    /// A directory with `ca.pem`, `<name>.pem` and `<name>.key`; `None` for loopback
    /// `insecure_dev`.
    pub certs: Option<String>,
    /// The gossip interval; `None` for the library's default.
    pub gossip: Option<Duration>,
    /// How many workers.
    pub workers: usize,
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Writes records, one JSON line each, on stdout.
#[derive(Clone)]
struct Log {
    node: Node,
}

impl Log {
    fn write(&self, event: Event) {
        self.write_at(now_us(), event);
    }

    fn write_at(&self, t: u64, event: Event) {
        self.write_as(t, self.node.incarnation(), event);
    }

    /// Writes a record as of incarnation `inc` of this node.
    fn write_as(&self, t: u64, inc: u64, event: Event) {
        let record = Record {
            t,
            node: self.node.name().to_string(),
            inc,
            event,
        };
        if let Ok(line) = serde_json::to_string(&record) {
            println!("{line}");
        }
    }

    /// This node, as a sender: `name#incarnation`.
    fn sender(&self) -> String {
        format!("{}#{}", self.node.name(), self.node.incarnation())
    }
}

/// What workers handle.
#[derive(Serialize, Deserialize, RemoteMessage)]
#[remote(name = "chaos.work")]
pub enum Work {
    /// A sequenced message from a sender node.
    Seq {
        /// Its id.
        id: String,
        /// The sender's key.
        from: String,
        /// Its place in the sender's sequence to this worker.
        seq: u64,
    },
    /// Replies with the worker's key.
    Key(RpcReplyPort<String>),
    /// Replies with the id.
    Echo(String, RpcReplyPort<String>),
}

struct Worker;

impl Actor for Worker {
    type Msg = Work;
    type State = (String, Log);
    type Arguments = (String, Log);

    async fn pre_start(
        &self,
        _: ActorRef<Work>,
        args: (String, Log),
    ) -> Result<(String, Log), ActorProcessingErr> {
        Ok(args)
    }

    async fn handle(
        &self,
        _: ActorRef<Work>,
        msg: Work,
        (key, log): &mut (String, Log),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Work::Seq { id, from, seq } => log.write(Event::Recv {
                id,
                from,
                seq,
                to: key.clone(),
            }),
            Work::Key(reply) => reply.send(key.clone())?,
            Work::Echo(id, reply) => reply.send(id)?,
        }
        Ok(())
    }
}

/// Tells the watcher to monitor a worker.
struct Watch(ActorRef<Work>, String);

struct Watcher;

struct WatcherState {
    log: Log,
    /// Monitor ids by the watched worker's id.
    watching: HashMap<ActorId, u64>,
    next: u64,
    /// Workers whose monitor fired (shared with the workload, which forgets them).
    fired: Arc<Mutex<Vec<ActorId>>>,
}

impl Actor for Watcher {
    type Msg = Watch;
    type State = WatcherState;
    type Arguments = (Log, Arc<Mutex<Vec<ActorId>>>);

    async fn pre_start(
        &self,
        _: ActorRef<Watch>,
        (log, fired): Self::Arguments,
    ) -> Result<WatcherState, ActorProcessingErr> {
        Ok(WatcherState {
            log,
            watching: HashMap::new(),
            next: 1,
            fired,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Watch>,
        Watch(worker, key): Watch,
        state: &mut WatcherState,
    ) -> Result<(), ActorProcessingErr> {
        if state.watching.contains_key(&worker.id()) {
            return Ok(());
        }
        let mid = state.next;
        state.next += 1;
        state.watching.insert(worker.id(), mid);
        state.log.write(Event::Monitor { mid, target: key });
        myself.cell().monitor(worker.cell());
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<Watch>,
        evt: SupervisionEvent,
        state: &mut WatcherState,
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorDown(cell, reason) = evt {
            if let Some(mid) = state.watching.remove(&cell.id()) {
                state.log.write(Event::Fired {
                    mid,
                    reason: reason.to_string(),
                });
                state
                    .fired
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(cell.id());
            }
        }
        Ok(())
    }
}

/// A remote worker the workload knows: its ref and key.
struct Target {
    worker: ActorRef<Work>,
    key: String,
}

/// The workload's state.
struct Workload {
    node: Node,
    log: Log,
    watcher: ActorRef<Watch>,
    targets: Arc<Mutex<HashMap<ActorId, Target>>>,
    asking: Arc<Mutex<std::collections::HashSet<ActorId>>>,
    fired: Arc<Mutex<Vec<ActorId>>>,
    seqs: HashMap<(String, String), u64>,
    next: usize,
    count: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Workload {
    /// Learns the group's remote workers (asking each its key once) and forgets the ones
    /// whose monitor fired.
    fn discover(&mut self) {
        for id in lock(&self.fired).drain(..) {
            lock(&self.targets).remove(&id);
        }
        for worker in self.node.group_members::<Work>(GROUP) {
            let id = worker.id();
            if id.is_local()
                || lock(&self.targets).contains_key(&id)
                || !lock(&self.asking).insert(id)
            {
                continue;
            }
            let (targets, asking, watcher) = (
                self.targets.clone(),
                self.asking.clone(),
                self.watcher.clone(),
            );
            tokio::spawn(async move {
                if let Ok(key) = worker.call(Work::Key, Some(CALL_TIMEOUT)).await {
                    let _ = watcher.cast(Watch(worker.clone(), key.clone()));
                    lock(&targets).insert(id, Target { worker, key });
                }
                lock(&asking).remove(&id);
            });
        }
    }

    /// One message to the next target: a cast, or every fifth a call.
    fn tick(&mut self) {
        let (worker, key) = {
            let targets = lock(&self.targets);
            if targets.is_empty() {
                return;
            }
            let mut all: Vec<(&ActorId, &Target)> = targets.iter().collect();
            all.sort_by_key(|(id, _)| **id);
            let (_, t) = all[self.next % all.len()];
            self.next = self.next.wrapping_add(1);
            (t.worker.clone(), t.key.clone())
        };
        self.count += 1;
        let sender = self.log.sender();
        let id = format!("{sender}/{}", self.count);
        if self.count % 5 == 0 {
            let log = self.log.clone();
            log.write(Event::Call {
                id: id.clone(),
                to: key,
                timeout_ms: CALL_TIMEOUT.as_millis() as u64,
            });
            tokio::spawn(async move {
                let started = Instant::now();
                let outcome = match worker
                    .call(|r| Work::Echo(id.clone(), r), Some(CALL_TIMEOUT))
                    .await
                {
                    Ok(_) => "ok".to_string(),
                    Err(e) => e.to_string(),
                };
                log.write(Event::Reply {
                    id,
                    outcome,
                    elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
                });
            });
            return;
        }
        let seq = self.seqs.entry((sender.clone(), key.clone())).or_insert(0);
        let t = now_us();
        let msg = Work::Seq {
            id: id.clone(),
            from: sender,
            seq: *seq + 1,
        };
        if worker.cast(msg).is_ok() {
            *seq += 1;
            self.log.write_at(
                t,
                Event::Send {
                    id,
                    to: key,
                    seq: *seq,
                },
            );
        }
    }
}

async fn start(options: &NodeOptions) -> Result<Node, Box<dyn std::error::Error>> {
    let mut config = NodeConfig::new(options.name.as_str(), options.listen.as_str())
        .seeds(options.seeds.clone());
    config = match &options.certs {
        Some(dir) => {
            let dir = std::path::Path::new(dir);
            config
                .tls(TlsConfig::from_pem_files(
                    dir.join("ca.pem"),
                    dir.join(format!("{}.pem", options.name)),
                    dir.join(format!("{}.key", options.name)),
                )?)
                .cluster_secret(std::env::var("ENSEMBLE_CLUSTER_SECRET")?)
        }
        None => config.insecure_dev(),
    };
    if let Some(interval) = options.gossip {
        config = config.gossip_interval(interval);
    }
    Ok(Node::start(config).await?)
}

/// Runs a node process until `leave` (or stdin closes).
pub async fn run(options: NodeOptions) -> Result<(), Box<dyn std::error::Error>> {
    let node = start(&options).await?;
    let log = Log { node: node.clone() };
    let mut events = node.subscribe();
    let events_log = log.clone();
    // Events arrive after the fact: each is logged as of the incarnation that saw it
    // (the one before a `Rejoined`), not the node's incarnation when it is written.
    let mut seen_as = node.incarnation();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let inc = seen_as;
            if let ClusterEvent::Rejoined { incarnation } = &event {
                seen_as = *incarnation;
            }
            events_log.write_as(
                now_us(),
                inc,
                match event {
                    ClusterEvent::NodeUp(m) => Event::Up {
                        peer: m.name().to_string(),
                        peer_inc: m.incarnation(),
                    },
                    ClusterEvent::NodeDown(m, why) => Event::Down {
                        peer: m.name().to_string(),
                        peer_inc: m.incarnation(),
                        reason: why.to_string(),
                        quarantined: why != DownReason::Isolated,
                    },
                    ClusterEvent::Rejoined { incarnation } => Event::Rejoined {
                        new_inc: incarnation,
                    },
                    other => Event::Error {
                        text: format!("unknown cluster event {other:?}"),
                    },
                },
            );
        }
    });
    let start_inc = node.incarnation();
    for k in 0..options.workers {
        let key = format!("{}#{start_inc}/w{k}", options.name);
        let (worker, _) = Actor::spawn_with(
            SpawnOptions::new().system(node.system()),
            Worker,
            (key, log.clone()),
        )
        .await?;
        node.join(GROUP, &worker)?;
    }
    let fired = Arc::new(Mutex::new(Vec::new()));
    let (watcher, _) = Actor::spawn_with(
        SpawnOptions::new().system(node.system()),
        Watcher,
        (log.clone(), fired.clone()),
    )
    .await?;
    log.write(Event::Ready {
        addr: node.address().to_string(),
    });

    let rate = Arc::new(AtomicU64::new(0));
    let workload = Workload {
        node: node.clone(),
        log: log.clone(),
        watcher,
        targets: Arc::default(),
        asking: Arc::default(),
        fired,
        seqs: HashMap::new(),
        next: 0,
        count: 0,
    };
    let driving = tokio::spawn(drive(workload, rate.clone()));

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        match Command::parse(&line) {
            Ok(Command::Workload(r)) => rate.store(u64::from(r), Ordering::Relaxed),
            Ok(Command::Members(rid)) => log.write(Event::Members {
                rid,
                names: node
                    .members()
                    .iter()
                    .map(|m| m.name().to_string())
                    .collect(),
            }),
            Ok(Command::Stats) => log.write(Event::Stats {
                quarantine_drops: node.quarantine_drops(),
                dropped: node.faults().dropped(),
            }),
            Ok(Command::Fault(fault)) => {
                if let Err(text) = apply(&node, fault) {
                    log.write(Event::Error { text });
                }
            }
            Ok(Command::Leave) => break,
            Err(text) => log.write(Event::Error { text }),
        }
    }
    driving.abort();
    node.shutdown().await;
    log.write(Event::Left);
    Ok(())
}

/// Applies a fault to the node's fault layer.
fn apply(node: &Node, fault: Fault) -> Result<(), String> {
    let faults = node.faults();
    let member = |name: &str| {
        node.members()
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| format!("no member {name:?} to block"))
    };
    match fault {
        Fault::Isolate => faults.isolate(),
        Fault::Heal => faults.heal(),
        Fault::Block(peer, direction) => {
            let direction = match direction.as_str() {
                "in" => Direction::Inbound,
                "out" => Direction::Outbound,
                _ => Direction::Both,
            };
            faults.block(&member(&peer)?, direction);
        }
        Fault::Delay(ms) => faults.delay(Duration::from_millis(ms)),
        Fault::Drop(n) => faults.drop_one_in(n),
        Fault::Reset(peer) => faults.reset(&peer),
    }
    Ok(())
}

/// Sends at the rate asked for, and refreshes the targets every 100 ms.
async fn drive(mut workload: Workload, rate: Arc<AtomicU64>) {
    let mut last_discovery = Instant::now() - Duration::from_secs(1);
    loop {
        let r = rate.load(Ordering::Relaxed);
        if last_discovery.elapsed() >= Duration::from_millis(100) {
            workload.discover();
            last_discovery = Instant::now();
        }
        if r == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        workload.tick();
        tokio::time::sleep(Duration::from_micros(1_000_000 / r)).await;
    }
}
