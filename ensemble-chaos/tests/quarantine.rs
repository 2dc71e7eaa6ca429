//! Quarantine, in process: a node the others declared down has its frames and
//! connections refused (and counted), refs to its old incarnation fail at once, and when
//! it hears the cluster again it rejoins as a new incarnation.

use std::time::{Duration, Instant};

use ensemble::{
    Actor, ActorProcessingErr, ActorRef, ActorSystem, CallError, ExitReason, RpcReplyPort,
    SendError, SpawnOptions, SupervisionEvent,
};
use ensemble_cluster::{ClusterEvent, DownReason, Node, NodeConfig};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(15);

#[derive(Serialize, Deserialize, ensemble::remote::RemoteMessage)]
#[remote(name = "quarantine.echo")]
enum Echo {
    Ping(RpcReplyPort<u64>),
    Note(u64),
}

struct EchoActor;

impl Actor for EchoActor {
    type Msg = Echo;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<Echo>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<Echo>,
        msg: Echo,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if let Echo::Ping(reply) = msg {
            reply.send(7)?;
        }
        Ok(())
    }
}

/// Forwards every supervision event it hears.
struct Watcher;

impl Actor for Watcher {
    type Msg = ensemble::ActorCell;
    type State = tokio::sync::mpsc::UnboundedSender<SupervisionEvent>;
    type Arguments = tokio::sync::mpsc::UnboundedSender<SupervisionEvent>;

    async fn pre_start(
        &self,
        _: ActorRef<ensemble::ActorCell>,
        tx: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(tx)
    }

    async fn handle(
        &self,
        me: ActorRef<ensemble::ActorCell>,
        target: ensemble::ActorCell,
        _: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        me.cell().monitor(target);
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<ensemble::ActorCell>,
        evt: SupervisionEvent,
        tx: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let _ = tx.send(evt);
        Ok(())
    }
}

async fn node(name: &str, seeds: &[&Node], phi: f64) -> Node {
    let system = ActorSystem::new(name);
    Node::start(
        NodeConfig::new(name, "127.0.0.1:0")
            .insecure_dev()
            .gossip_interval(Duration::from_millis(100))
            .failure_threshold(phi)
            .system(&system)
            .seeds(seeds.iter().map(|n| n.address())),
    )
    .await
    .expect("node starts")
}

async fn echo(node: &Node, name: &str) -> ActorRef<Echo> {
    let (e, _) = Actor::spawn_with(SpawnOptions::new().system(node.system()), EchoActor, ())
        .await
        .unwrap();
    node.register(name, &e).unwrap();
    e
}

async fn find(node: &Node, name: &str) -> ActorRef<Echo> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(r) = node.where_is::<Echo>(name).await {
            return r;
        }
        assert!(Instant::now() < deadline, "{name} never appeared");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_declared_down_is_quarantined_its_old_refs_fail_at_once_and_it_rejoins_anew() {
    let a = node("node-a", &[], 8.0).await;
    let b = node("node-b", &[&a], 8.0).await;
    // node-c never gives up on the others by itself (so it keeps sending to them while
    // they have declared it down).
    let c = node("node-c", &[&a, &b], 1e9).await;
    echo(&a, "a-echo").await;
    echo(&c, "c-echo").await;
    let old = find(&a, "c-echo").await;
    let to_a = find(&c, "a-echo").await;
    assert_eq!(old.call(Echo::Ping, Some(WAIT)).await.unwrap(), 7);
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let (watcher, _) = Actor::spawn_with(SpawnOptions::new().system(a.system()), Watcher, tx)
        .await
        .unwrap();
    watcher.cast(old.cell()).unwrap();
    old.call(Echo::Ping, Some(WAIT)).await.unwrap();
    let mut a_events = a.subscribe();
    let mut c_events = c.subscribe();
    let c_was = c.incarnation();

    // node-c's gossip is cut, its connections are not: the others declare it down.
    c.faults().cut_gossip();
    match tokio::time::timeout(WAIT, heard.recv())
        .await
        .unwrap()
        .unwrap()
    {
        SupervisionEvent::ActorDown(cell, ExitReason::NoConnection) => {
            assert_eq!(cell.id(), old.id());
        }
        other => panic!("unexpected {other:?}"),
    }
    loop {
        match tokio::time::timeout(WAIT, a_events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ClusterEvent::NodeDown(m, DownReason::Unreachable) if m.name() == "node-c" => break,
            _ => {}
        }
    }
    // A ref to the dead incarnation fails at once, with a typed error.
    let started = Instant::now();
    assert!(matches!(old.cast(Echo::Note(1)), Err(SendError::Closed(_))));
    let err = old.call(Echo::Ping, Some(WAIT)).await.unwrap_err();
    // As for a local actor that has stopped: the ref is closed.
    assert!(
        matches!(err, CallError::Send(SendError::Closed(_))),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    // node-c does not know yet: what it sends is refused and counted.
    let deadline = Instant::now() + WAIT;
    while a.quarantine_drops() == 0 {
        assert!(Instant::now() < deadline, "nothing from node-c was refused");
        let _ = to_a.cast(Echo::Note(2));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "node-a refused {} frames or connections",
        a.quarantine_drops()
    );

    // Gossip back: node-c learns it was declared down and rejoins as a new incarnation.
    c.faults().heal();
    let new_inc = loop {
        match tokio::time::timeout(WAIT, c_events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ClusterEvent::Rejoined { incarnation } => break incarnation,
            ClusterEvent::NodeDown(_, why) => assert_eq!(why, DownReason::Isolated),
            _ => {}
        }
    };
    assert!(new_inc > c_was && c.incarnation() == new_inc);
    loop {
        match tokio::time::timeout(WAIT, a_events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ClusterEvent::NodeUp(m) if m.name() == "node-c" => {
                assert_eq!(m.incarnation(), new_inc);
                break;
            }
            _ => {}
        }
    }
    // The name is found again, on the new incarnation, and works; the old ref does not.
    let deadline = Instant::now() + WAIT;
    let new = loop {
        if let Some(r) = a
            .where_is::<Echo>("c-echo")
            .await
            .filter(|r| r.id() != old.id())
        {
            break r;
        }
        assert!(Instant::now() < deadline, "c-echo never reappeared");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(new.call(Echo::Ping, Some(WAIT)).await.unwrap(), 7);
    assert!(old.cast(Echo::Note(3)).is_err());
    for n in [&a, &b, &c] {
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_alone_in_declaring_live_members_down_rejoins_rather_than_stay_cut_off() {
    // node-a's failure detector is trigger-happy; the others never give up on anyone.
    let a = node("node-a", &[], 3.0).await;
    let b = node("node-b", &[&a], 1e9).await;
    let c = node("node-c", &[&a, &b], 1e9).await;
    let mut a_events = a.subscribe();
    while a.members().len() < 3 {
        let _ = tokio::time::timeout(WAIT, a_events.recv()).await.unwrap();
    }
    let was = a.incarnation();
    // A short stall of node-a: it declares the others down; they do not declare it.
    a.faults().isolate();
    loop {
        if let ClusterEvent::NodeDown(_, DownReason::Unreachable) =
            tokio::time::timeout(WAIT, a_events.recv())
                .await
                .unwrap()
                .unwrap()
        {
            break;
        }
    }
    a.faults().heal();
    // node-a holds an accusation the cluster does not share: it rejoins anew, and all
    // three see each other again.
    let new_inc = loop {
        if let ClusterEvent::Rejoined { incarnation } = tokio::time::timeout(WAIT, a_events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            break incarnation;
        }
    };
    assert!(new_inc > was);
    let deadline = Instant::now() + WAIT;
    loop {
        let now = a.incarnation();
        let all = [&a, &b, &c].iter().all(|n| n.members().len() == 3)
            && [&b, &c].iter().all(|n| {
                n.members()
                    .iter()
                    .any(|m| m.name() == "node-a" && m.incarnation() == now)
            });
        if all {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "members never converged: {:?}",
            a.members()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for n in [&a, &b, &c] {
        n.shutdown().await;
    }
}
