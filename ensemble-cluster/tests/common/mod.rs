//! Test helpers: nodes on loopback with OS-chosen ports, each with its own actor system,
//! and a counter actor with a remote message type.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::future::Future;
use std::time::Duration;

use ensemble::{Actor, ActorProcessingErr, ActorRef, ActorSystem, RpcReplyPort, SpawnOptions};
use ensemble_cluster::{ClusterEvent, ClusterEvents, DevCa, Node, NodeConfig};
use serde::{Deserialize, Serialize};

pub const SECRET: &[u8] = b"test cluster secret";

/// A node on 127.0.0.1 with a port the OS chose, in an actor system of its own.
pub async fn node(ca: &DevCa, name: &str, seeds: &[&Node]) -> Node {
    let system = ActorSystem::new(name);
    let config = NodeConfig::new(name, "127.0.0.1:0")
        .tls(ca.tls_config(name).expect("certificate"))
        .cluster_secret(SECRET)
        .gossip_interval(Duration::from_millis(100))
        .system(&system)
        .seeds(seeds.iter().map(|n| n.address()));
    Node::start(config).await.expect("node starts")
}

/// Waits (a bounded probe: at most `within`) until `check` returns `Some`.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next event (at most `within` away).
pub async fn next_event(events: &mut ClusterEvents, within: Duration) -> ClusterEvent {
    tokio::time::timeout(within, events.recv())
        .await
        .expect("an event in time")
        .expect("node still running")
}

/// Waits until `events` reports `name` up.
pub async fn up(events: &mut ClusterEvents, name: &str) {
    loop {
        if let ClusterEvent::NodeUp(m) = next_event(events, Duration::from_secs(10)).await {
            if m.name == name {
                return;
            }
        }
    }
}

#[derive(Serialize, Deserialize, ensemble::remote::RemoteMessage)]
#[remote(name = "test.counter")]
pub enum CounterMsg {
    Add(u64),
    Get(RpcReplyPort<u64>),
    /// Fails with this text (the reply port is dropped).
    Fail(String, RpcReplyPort<u64>),
    /// Sends the running total to this ref after every add.
    Subscribe(ActorRef<Notice>),
    /// Replies after this many ms (for timeouts).
    Slow(u64, RpcReplyPort<u64>),
}

#[derive(Debug, Serialize, Deserialize, ensemble::remote::RemoteMessage)]
#[remote(name = "test.notice")]
pub struct Notice {
    pub total: u64,
}

pub struct Counter;

impl Actor for Counter {
    type Msg = CounterMsg;
    type State = (u64, Vec<ActorRef<Notice>>);
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<CounterMsg>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok((0, Vec::new()))
    }

    async fn handle(
        &self,
        _: ActorRef<CounterMsg>,
        msg: CounterMsg,
        (total, subs): &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CounterMsg::Add(n) => {
                *total += n;
                for s in subs.iter() {
                    let _ = s.cast(Notice { total: *total });
                }
            }
            CounterMsg::Get(reply) => reply.send(*total)?,
            CounterMsg::Fail(text, _reply) => return Err(text.into()),
            CounterMsg::Subscribe(sub) => subs.push(sub),
            CounterMsg::Slow(ms, reply) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                reply.send(*total)?;
            }
        }
        Ok(())
    }
}

/// A counter in `node`'s actor system.
pub async fn counter(node: &Node) -> ActorRef<CounterMsg> {
    let (c, _) = Actor::spawn_with(SpawnOptions::new().system(node.system()), Counter, ())
        .await
        .expect("counter");
    c
}

/// Forwards every notice to a channel.
pub struct Listener;

impl Actor for Listener {
    type Msg = Notice;
    type State = tokio::sync::mpsc::UnboundedSender<u64>;
    type Arguments = tokio::sync::mpsc::UnboundedSender<u64>;

    async fn pre_start(
        &self,
        _: ActorRef<Notice>,
        tx: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(tx)
    }

    async fn handle(
        &self,
        _: ActorRef<Notice>,
        n: Notice,
        tx: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let _ = tx.send(n.total);
        Ok(())
    }
}

/// A node with its own certificate authority and secret choices.
pub async fn node_with(
    ca: &DevCa,
    secret: &[u8],
    name: &str,
    seeds: &[&Node],
    tune: impl FnOnce(NodeConfig) -> NodeConfig,
) -> Node {
    let system = ActorSystem::new(name);
    let config = NodeConfig::new(name, "127.0.0.1:0")
        .tls(ca.tls_config(name).expect("certificate"))
        .cluster_secret(secret)
        .gossip_interval(Duration::from_millis(100))
        .system(&system)
        .seeds(seeds.iter().map(|n| n.address()));
    Node::start(tune(config)).await.expect("node starts")
}

/// A message type whose handler records the order of arrival, per sender.
#[derive(Serialize, Deserialize, ensemble::remote::RemoteMessage)]
#[remote(name = "test.seq")]
pub enum SeqMsg {
    Item(u32, u64),
    Seen(RpcReplyPort<Vec<(u32, u64)>>),
}

pub struct Recorder;

impl Actor for Recorder {
    type Msg = SeqMsg;
    type State = Vec<(u32, u64)>;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<SeqMsg>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(Vec::new())
    }

    async fn handle(
        &self,
        _: ActorRef<SeqMsg>,
        msg: SeqMsg,
        seen: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SeqMsg::Item(sender, n) => seen.push((sender, n)),
            SeqMsg::Seen(reply) => reply.send(seen.clone())?,
        }
        Ok(())
    }
}

/// Runs this package's example `name` with `args` (built by `cargo test` before the tests
/// run); panics with its output unless it exits successfully; returns its stdout.
pub fn run_example(name: &str, args: &[&str]) -> String {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = profile_dir.join("examples").join(name);
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "ensemble-cluster", "--example", name])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building example {name} failed");
    }
    let out = std::process::Command::new(bin)
        .args(args)
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// An actor that forwards every supervision event it hears to the test.
pub struct Watcher;

pub enum WatcherMsg {
    Monitor(ensemble::ActorCell),
    Demonitor(ensemble::ActorCell),
}

impl Actor for Watcher {
    type Msg = WatcherMsg;
    type State = tokio::sync::mpsc::UnboundedSender<ensemble::SupervisionEvent>;
    type Arguments = tokio::sync::mpsc::UnboundedSender<ensemble::SupervisionEvent>;

    async fn pre_start(
        &self,
        _: ActorRef<WatcherMsg>,
        tx: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(tx)
    }

    async fn handle(
        &self,
        me: ActorRef<WatcherMsg>,
        msg: WatcherMsg,
        _: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            WatcherMsg::Monitor(target) => me.cell().monitor(target),
            WatcherMsg::Demonitor(target) => me.cell().demonitor(target),
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<WatcherMsg>,
        evt: ensemble::SupervisionEvent,
        tx: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let _ = tx.send(evt);
        Ok(())
    }
}

/// A watcher in `node`'s system, and the events it hears.
pub async fn watcher(
    node: &Node,
) -> (
    ActorRef<WatcherMsg>,
    tokio::sync::mpsc::UnboundedReceiver<ensemble::SupervisionEvent>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (w, _) = Actor::spawn_with(SpawnOptions::new().system(node.system()), Watcher, tx)
        .await
        .expect("watcher");
    (w, rx)
}

/// The next supervision event (at most `within` away).
pub async fn next_supervision(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<ensemble::SupervisionEvent>,
    within: Duration,
) -> ensemble::SupervisionEvent {
    tokio::time::timeout(within, rx.recv())
        .await
        .expect("an event in time")
        .expect("watcher alive")
}
