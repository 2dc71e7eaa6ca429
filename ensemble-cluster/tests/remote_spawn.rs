//! Remote spawn: actors of registered kinds started from another node, linked or not;
//! typed errors for each way it can fail; supervisor children placed on other nodes and
//! restarted on a survivor when their node is lost.

mod common;

use std::time::Duration;

use common::*;
use ensemble::supervisor::{
    ChildSpec, Strategy, Supervisor, SupervisorFlags, SupervisorMsg, SupervisorSpec,
};
use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use ensemble_cluster::{DevCa, Node, Placement, RemoteSpawnError};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Serialize, Deserialize, ensemble::remote::RemoteMessage)]
#[remote(name = "test.worker")]
enum WorkerMsg {
    /// Replies with the node the worker runs on and its start value.
    Where(RpcReplyPort<(String, u64)>),
    /// Fails with this text.
    Fail(String),
}

/// A worker that knows the node it was made on (its factory says).
struct Worker {
    node: String,
}

impl Actor for Worker {
    type Msg = WorkerMsg;
    type State = u64;
    type Arguments = u64;

    async fn pre_start(
        &self,
        _: ActorRef<WorkerMsg>,
        start: u64,
    ) -> Result<u64, ActorProcessingErr> {
        if start == 666 {
            return Err("refusing to start with 666".into());
        }
        Ok(start)
    }

    async fn handle(
        &self,
        _: ActorRef<WorkerMsg>,
        msg: WorkerMsg,
        start: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            WorkerMsg::Where(reply) => reply.send((self.node.clone(), *start))?,
            WorkerMsg::Fail(text) => return Err(text.into()),
        }
        Ok(())
    }
}

/// Another actor type with the same message type but other arguments: what a node with
/// an older build of the worker would have.
struct OldWorker;

impl Actor for OldWorker {
    type Msg = WorkerMsg;
    type State = ();
    type Arguments = String;

    async fn pre_start(&self, _: ActorRef<WorkerMsg>, _: String) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

fn spawnable(node: &Node) {
    let name = node.name().to_string();
    node.register_spawnable::<Worker, _>(move || Worker { node: name.clone() })
        .unwrap();
}

async fn where_is_it(worker: &ActorRef<WorkerMsg>) -> (String, u64) {
    worker.call(WorkerMsg::Where, Some(WAIT)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_remote_starts_a_named_actor_there_and_returns_a_working_ref() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    spawnable(&b);
    let mut events = a.subscribe();
    if a.members().len() < 2 {
        up(&mut events, "node-b").await;
    }
    let w = a
        .spawn_remote::<Worker>("node-b", Some("worker-1".into()), 41)
        .await
        .unwrap();
    assert!(!w.id().is_local());
    assert_eq!(where_is_it(&w).await, ("node-b".to_string(), 41));
    // Registered on node-b (locally and cluster-wide).
    assert!(
        b.system()
            .where_is("worker-1")
            .and_then(|c| c.into_ref::<WorkerMsg>())
            .is_some()
    );
    let found = eventually(WAIT, || a.where_is::<WorkerMsg>("worker-1"))
        .await
        .unwrap();
    assert_eq!(found.id(), w.id());
    // Naming this node starts it here, through the same registration.
    spawnable(&a);
    let here = a.spawn_remote::<Worker>("node-a", None, 7).await.unwrap();
    assert!(here.id().is_local());
    assert_eq!(where_is_it(&here).await, ("node-a".to_string(), 7));
    // Stopping the ref stops the remote actor.
    let local = b
        .system()
        .where_is("worker-1")
        .and_then(|c| c.into_ref::<WorkerMsg>())
        .unwrap();
    w.stop(None);
    tokio::time::timeout(WAIT, local.wait(None))
        .await
        .unwrap()
        .unwrap();
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_remote_spawn_fails_is_a_typed_error() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let c = node(&ca, "node-c", &[&a]).await;
    spawnable(&b);
    c.register_spawnable::<OldWorker, _>(|| OldWorker).unwrap();
    assert!(matches!(
        c.register_spawnable::<OldWorker, _>(|| OldWorker),
        Err(ensemble_cluster::ClusterError::NameTaken(_))
    ));
    let mut events = a.subscribe();
    while a.members().len() < 3 {
        let _ = next_event(&mut events, WAIT).await;
    }
    // No such node.
    let e = a
        .spawn_remote::<Worker>("node-z", None, 1)
        .await
        .unwrap_err();
    assert_eq!(e, RemoteSpawnError::NoNode("node-z".into()));
    // A kind the node does not know.
    let e = a
        .spawn_remote::<Counter>("node-b", None, ())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RemoteSpawnError::NotSpawnable { node, kind } if node == "node-b" && kind == "test.counter"),
        "{e:?}"
    );
    assert!(e.to_string().contains("register_spawnable"), "{e}");
    // pre_start fails there.
    let e = a
        .spawn_remote::<Worker>("node-b", Some("w".into()), 666)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RemoteSpawnError::StartupFailed { reason, .. } if reason.contains("666")),
        "{e:?}"
    );
    // ... and the name is free again.
    a.spawn_remote::<Worker>("node-b", Some("w".into()), 1)
        .await
        .unwrap();
    // A taken name.
    let e = a
        .spawn_remote::<Worker>("node-b", Some("w".into()), 2)
        .await
        .unwrap_err();
    assert_eq!(
        e,
        RemoteSpawnError::AlreadyRegistered {
            node: "node-b".into(),
            name: "w".into()
        }
    );
    // Arguments that do not decode as the kind's there (another build's type).
    let e = a
        .spawn_remote::<Worker>("node-c", None, 5)
        .await
        .unwrap_err();
    assert!(matches!(e, RemoteSpawnError::Arguments(_)), "{e:?}");
    // A node that leaves: no live member.
    c.shutdown().await;
    let gone = eventually(WAIT, || async {
        match a.spawn_remote::<Worker>("node-c", None, 5).await {
            Err(RemoteSpawnError::NoNode(_)) => Some(()),
            _ => None,
        }
    })
    .await;
    assert!(gone.is_some());
    // Every error converts to a SpawnError (for child specs).
    let spawn: ensemble::SpawnError = RemoteSpawnError::NoNode("x".into()).into();
    assert!(spawn.to_string().contains("\"x\""), "{spawn}");
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_remote_spawn_fails_into_its_parent_and_dies_with_the_parents_node() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    spawnable(&b);
    let mut events = a.subscribe();
    if a.members().len() < 2 {
        up(&mut events, "node-b").await;
    }
    let (parent, mut heard) = watcher(&a).await;
    let w = a
        .spawn_remote_linked::<Worker>("node-b", None, 1, parent.cell())
        .await
        .unwrap();
    assert_eq!(w.cell().supervisor().map(|s| s.id()), Some(parent.id()));
    assert_eq!(parent.cell().children().len(), 1);
    // The child's failure on node-b reaches its parent on node-a.
    w.cast(WorkerMsg::Fail("bad input".into())).unwrap();
    loop {
        match next_supervision(&mut heard, WAIT).await {
            SupervisionEvent::ActorStarted(_) => continue,
            SupervisionEvent::ActorFailed(cell, err) => {
                assert_eq!(cell.id(), w.id());
                let text = err.to_string();
                assert!(
                    text.contains("bad input") && text.contains("node-b"),
                    "{text}"
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // A second child, on node-b: when the parent's node leaves, it is stopped there.
    let w2 = a
        .spawn_remote_linked::<Worker>("node-b", Some("orphan".into()), 2, parent.cell())
        .await
        .unwrap();
    where_is_it(&w2).await;
    let there = b
        .system()
        .where_is("orphan")
        .and_then(|c| c.into_ref::<WorkerMsg>())
        .unwrap();
    a.shutdown().await;
    tokio::time::timeout(WAIT, there.wait(None))
        .await
        .unwrap()
        .unwrap();
    b.shutdown().await;
}

/// The children of `sup` that run now, as worker refs.
async fn running_child(sup: &ActorRef<SupervisorMsg>, id: &str) -> Option<ActorRef<WorkerMsg>> {
    sup.which_children()
        .await
        .ok()?
        .into_iter()
        .find(|c| c.id == id)
        .and_then(|c| c.actor_ref::<WorkerMsg>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placed_child_is_restarted_on_a_surviving_node_when_its_node_leaves() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    let c = node(&ca, "node-c", &[&a]).await;
    for n in [&a, &b, &c] {
        spawnable(n);
    }
    // Gossip has told node-a who can start workers.
    let all = eventually(WAIT, || async {
        (a.spawnable_nodes::<Worker>().len() == 3).then_some(())
    })
    .await;
    assert!(all.is_some(), "{:?}", a.spawnable_nodes::<Worker>());
    let flags = SupervisorFlags::new(Strategy::OneForOne).intensity(3, Duration::from_secs(60));
    let spec = SupervisorSpec::new(flags)
        .child(a.remote_child::<Worker, _>("away", Placement::AnyButMine, || 10))
        .child(a.remote_child::<Worker, _>("pinned", Placement::On("node-b".into()), || 20));
    let (sup, _) = Actor::spawn_with(
        ensemble::SpawnOptions::new().system(a.system()),
        Supervisor,
        spec,
    )
    .await
    .unwrap();
    let away = running_child(&sup, "away").await.unwrap();
    let (away_node, start) = where_is_it(&away).await;
    assert_ne!(away_node, "node-a");
    assert_eq!(start, 10);
    let pinned = running_child(&sup, "pinned").await.unwrap();
    assert_eq!(where_is_it(&pinned).await.0, "node-b");
    // node-b leaves: the pinned child (and "away", if it was there) move to a survivor.
    b.shutdown().await;
    let moved = eventually(WAIT, || async {
        let p = running_child(&sup, "pinned").await?;
        (p.id() != pinned.id()).then_some(p)
    })
    .await
    .expect("the pinned child restarted");
    let (now_on, start) = where_is_it(&moved).await;
    assert_ne!(now_on, "node-b");
    assert_eq!(start, 20);
    let away = eventually(WAIT, || async {
        let w = running_child(&sup, "away").await?;
        let (on, _) = w.call(WorkerMsg::Where, Some(WAIT)).await.ok()?;
        (on == "node-c").then_some(on)
    })
    .await;
    assert_eq!(
        away.as_deref(),
        Some("node-c"),
        "away is never on its own node"
    );
    // The supervisor itself kept running.
    assert!(sup.cell().status().is_alive());
    // A child that fails for real is restarted too (counted in the intensity).
    let before = running_child(&sup, "pinned").await.unwrap();
    before.cast(WorkerMsg::Fail("crash".into())).unwrap();
    let after = eventually(WAIT, || async {
        let p = running_child(&sup, "pinned").await?;
        (p.id() != before.id()).then_some(p)
    })
    .await;
    assert!(after.is_some());
    sup.stop(None);
    c.shutdown().await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_child_spec_is_linked_to_its_supervisor() {
    // The core's `ChildSpec::custom`, used by placed children, links what it starts.
    let spec = SupervisorSpec::new(SupervisorFlags::default()).child(ChildSpec::custom(
        "plain",
        |_options| async move {
            // Not linked by the start function: the supervisor links it.
            let (w, _) = Actor::spawn(
                None,
                Worker {
                    node: "here".into(),
                },
                3,
            )
            .await?;
            Ok(w.cell())
        },
    ));
    let (sup, _) = Supervisor::start(None, spec).await.unwrap();
    let w = running_child(&sup, "plain").await.unwrap();
    assert_eq!(w.cell().supervisor().map(|s| s.id()), Some(sup.id()));
    w.cast(WorkerMsg::Fail("x".into())).unwrap();
    let restarted = eventually(WAIT, || async {
        let n = running_child(&sup, "plain").await?;
        (n.id() != w.id()).then_some(n)
    })
    .await;
    assert!(restarted.is_some());
    sup.stop(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_remote_links_back_to_the_calling_node_no_orphans_and_failures_only_logged() {
    let ca = DevCa::new("t").unwrap();
    let a = node(&ca, "node-a", &[]).await;
    let b = node(&ca, "node-b", &[&a]).await;
    spawnable(&b);
    let mut events = a.subscribe();
    if a.members().len() < 2 {
        up(&mut events, "node-b").await;
    }
    // A failure of one is logged on node-a, and nothing else there fails.
    let w1 = a
        .spawn_remote::<Worker>("node-b", Some("fails".into()), 1)
        .await
        .unwrap();
    let w2 = a
        .spawn_remote::<Worker>("node-b", Some("stays".into()), 2)
        .await
        .unwrap();
    let failing = b.system().where_is("fails").unwrap();
    w1.cast(WorkerMsg::Fail("boom".into())).unwrap();
    tokio::time::timeout(WAIT, failing.wait(None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(where_is_it(&w2).await, ("node-b".to_string(), 2));
    // When node-a leaves, what it spawned on node-b stops.
    let staying = b.system().where_is("stays").unwrap();
    a.shutdown().await;
    tokio::time::timeout(WAIT, staying.wait(None))
        .await
        .unwrap()
        .unwrap();
    b.shutdown().await;
}
