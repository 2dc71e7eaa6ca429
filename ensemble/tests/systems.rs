//! `ActorSystem`: several independent sets of names, groups and dead-letter counts in one
//! process, with the global system (and every API without a system) unchanged.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Log, Work, Worker, block};
use ensemble::supervisor::{ChildSpec, Supervisor, SupervisorFlags, SupervisorSpec};
use ensemble::{Actor, ActorSystem, SpawnError, SpawnOptions, pg};

#[tokio::test]
async fn names_groups_and_dead_letters_belong_to_their_system() {
    let log = Log::default();
    let (a, b) = (ActorSystem::new("a"), ActorSystem::new("b"));
    assert_ne!(a, b);
    assert_eq!(ActorSystem::global(), ActorSystem::default());

    // Names: the same name in each system, and not in the global one.
    let opts = |s: &ActorSystem| SpawnOptions::new().name("systems-svc").system(s);
    let (in_a, ha) = Actor::spawn_with(opts(&a), Worker::new("a", &log), ())
        .await
        .unwrap();
    let (in_b, hb) = Actor::spawn_with(opts(&b), Worker::new("b", &log), ())
        .await
        .unwrap();
    assert!(matches!(
        Actor::spawn_with(opts(&a), Worker::new("a2", &log), ()).await,
        Err(SpawnError::AlreadyRegistered(_))
    ));
    assert_eq!(a.where_is("systems-svc").unwrap().id(), in_a.id());
    assert_eq!(b.where_is("systems-svc").unwrap().id(), in_b.id());
    assert!(ensemble::registry::where_is("systems-svc").is_none());
    assert_eq!(a.registered(), ["systems-svc"]);
    assert_eq!(
        (in_a.cell().system(), in_b.cell().system()),
        (a.clone(), b.clone())
    );

    // Groups: per system, and members leave their own system's groups when they end.
    a.groups().join("scope", "g", vec![in_a.cell()]);
    b.groups().join("scope", "g", vec![in_b.cell()]);
    assert_eq!(a.groups().members("scope", "g"), [in_a.cell()]);
    assert_eq!(b.groups().members("scope", "g"), [in_b.cell()]);
    assert!(pg::members_scoped("scope", "g").is_empty());

    // Dead letters: counted, and hooked, per system.
    let heard = Arc::new(AtomicU64::new(0));
    let h = heard.clone();
    a.set_dead_letter_hook(move |d| {
        h.fetch_add(d.count, Ordering::Relaxed);
    });
    let before_global = ensemble::node::dead_letters();
    let gate = block(&in_a).await;
    for n in 0..3 {
        in_a.cast(Work::Record(n)).unwrap();
    }
    in_a.stop(None);
    drop(gate);
    ha.await.unwrap();
    assert_eq!(a.dead_letters(), 3);
    assert_eq!(heard.load(Ordering::Relaxed), 3);
    assert_eq!(b.dead_letters(), 0);
    assert!(
        a.where_is("systems-svc").is_none(),
        "name released in its system"
    );
    assert!(
        a.groups().members("scope", "g").is_empty(),
        "left its group"
    );
    assert_eq!(b.groups().members("scope", "g"), [in_b.cell()]);
    // Other tests in this binary may count globally; this one added nothing there.
    assert!(ensemble::node::dead_letters() >= before_global);
    in_b.stop(None);
    hb.await.unwrap();
}

#[tokio::test]
async fn children_join_their_supervisors_system() {
    let log = Log::default();
    let sys = ActorSystem::new("tree");
    let log2 = log.clone();
    let spec = SupervisorSpec::new(SupervisorFlags::default())
        .child(ChildSpec::new("w", move || (Worker::new("w", &log2), ())).name("systems-child"));
    let (sup, handle) = Actor::spawn_with(SpawnOptions::new().system(&sys), Supervisor, spec)
        .await
        .unwrap();
    let child = sys
        .where_is("systems-child")
        .expect("child in the supervisor's system");
    assert_eq!(child.system(), sys);
    assert!(ensemble::registry::where_is("systems-child").is_none());
    sup.stop(None);
    handle.await.unwrap();
}
