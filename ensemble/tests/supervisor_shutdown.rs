//! The Supervisor: ordered shutdown with per-child timeouts, nested trees, dynamic
//! children.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker, hang};
use ensemble::supervisor::{
    ChildKind, ChildSpec, Strategy, Supervisor, SupervisorError, SupervisorFlags, SupervisorMsg,
    SupervisorSpec,
};
use ensemble::{Actor, ActorProcessingErr, ActorRef, ActorStatus, Shutdown};
use tokio::time::Instant;

fn worker(id: &'static str, log: &Log) -> ChildSpec {
    let log = log.clone();
    ChildSpec::new(id, move || (Worker::new(id, &log), ()))
}

fn flags() -> SupervisorFlags {
    SupervisorFlags::new(Strategy::OneForOne).intensity(10, Duration::from_secs(5))
}

fn stops(log: &Log) -> Vec<String> {
    log.snapshot()
        .into_iter()
        .filter(|l| l.ends_with("post_stop"))
        .collect()
}

async fn child_ref(sup: &ActorRef<SupervisorMsg>, idx: usize) -> ActorRef<Work> {
    sup.which_children().await.unwrap()[idx]
        .cell
        .clone()
        .unwrap()
        .into_ref()
        .unwrap()
}

#[tokio::test]
async fn children_stop_in_reverse_spec_order_even_after_a_restart() {
    let log = Log::default();
    let s = SupervisorSpec::new(flags())
        .child(worker("a", &log))
        .child(worker("b", &log))
        .child(worker("c", &log));
    let (sup, handle) = Supervisor::start(None, s).await.unwrap();
    // Restarting "a" makes it the most recently started child; shutdown must still
    // follow the spec: c, b, a.
    let a = child_ref(&sup, 0).await;
    a.cast(Work::Fail("x".into())).unwrap();
    a.wait(None).await.unwrap();
    sup.which_children().await.unwrap();
    let before = stops(&log).len();
    sup.stop(None);
    handle.await.unwrap();
    assert_eq!(
        stops(&log)[before..],
        ["c:post_stop", "b:post_stop", "a:post_stop"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_stop_is_killed_after_its_timeout() {
    let log = Log::default();
    let s = SupervisorSpec::new(flags())
        .child(worker("polite", &log))
        .child(worker("stubborn", &log).shutdown(Shutdown::Timeout(Duration::from_secs(2))));
    let (sup, handle) = Supervisor::start(None, s).await.unwrap();
    let stubborn = child_ref(&sup, 1).await;
    hang(&stubborn).await; // never finishes its handler, so never takes the stop
    let start = Instant::now();
    sup.stop(None);
    handle.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(
        !log.contains("stubborn:post_stop"),
        "killed, so no post_stop"
    );
    assert!(log.contains("polite:post_stop"));
    assert_eq!(stubborn.status(), ActorStatus::Stopped);
}

#[tokio::test(start_paused = true)]
async fn brutal_shutdown_kills_at_once() {
    let log = Log::default();
    let s = SupervisorSpec::new(flags()).child(worker("brute", &log).shutdown(Shutdown::Brutal));
    let (sup, handle) = Supervisor::start(None, s).await.unwrap();
    let start = Instant::now();
    sup.stop(None);
    handle.await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(!log.contains("brute:post_stop"));
}

#[tokio::test(start_paused = true)]
async fn terminate_child_uses_the_shutdown_policy_too() {
    let log = Log::default();
    let s = SupervisorSpec::new(flags())
        .child(worker("slow", &log).shutdown(Shutdown::Timeout(Duration::from_millis(500))));
    let (sup, _) = Supervisor::start(None, s).await.unwrap();
    hang(&child_ref(&sup, 0).await).await;
    let start = Instant::now();
    sup.terminate_child("slow").await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

#[tokio::test]
async fn nested_supervisors_form_a_tree() {
    let log = Log::default();
    let inner_log = log.clone();
    let s = SupervisorSpec::new(flags())
        .child(worker("top-worker", &log))
        .child(ChildSpec::supervisor("inner", move || {
            SupervisorSpec::new(
                SupervisorFlags::new(Strategy::OneForOne).intensity(1, Duration::from_secs(5)),
            )
            .child(worker("leaf", &inner_log))
        }));
    let (top, handle) = Supervisor::start(None, s).await.unwrap();
    let counts = top.count_children().await.unwrap();
    assert_eq!(
        (
            counts.specs,
            counts.active,
            counts.supervisors,
            counts.workers
        ),
        (2, 2, 1, 1)
    );
    assert_eq!(
        top.which_children().await.unwrap()[1].kind,
        ChildKind::Supervisor
    );

    let inner: ActorRef<SupervisorMsg> = top.which_children().await.unwrap()[1]
        .cell
        .clone()
        .unwrap()
        .into_ref()
        .unwrap();
    // A leaf failure is handled by the inner supervisor alone.
    let leaf = child_ref(&inner, 0).await;
    leaf.cast(Work::Fail("leaf broke".into())).unwrap();
    leaf.wait(None).await.unwrap();
    assert_eq!(inner.which_children().await.unwrap()[0].restarts, 1);
    assert_eq!(top.which_children().await.unwrap()[1].restarts, 0);

    // One more leaf failure within the period exceeds the inner intensity (1 restart
    // in 5 s): the inner supervisor fails and the top one restarts the inner subtree.
    let leaf = child_ref(&inner, 0).await;
    leaf.cast(Work::Fail("leaf broke again".into())).unwrap();
    inner.wait(None).await.unwrap();
    let after = top.which_children().await.unwrap();
    assert_eq!(after[1].restarts, 1);
    let new_inner: ActorRef<SupervisorMsg> = after[1].cell.clone().unwrap().into_ref().unwrap();
    assert_ne!(new_inner.id(), inner.id());
    assert!(new_inner.which_children().await.unwrap()[0].cell.is_some());

    // Stopping the top stops the whole tree, leaves before their supervisors.
    let leaf = child_ref(&new_inner, 0).await;
    top.stop(None);
    handle.await.unwrap();
    assert_eq!(leaf.status(), ActorStatus::Stopped);
    assert_eq!(new_inner.status(), ActorStatus::Stopped);
}

#[tokio::test]
async fn dynamic_children() {
    let log = Log::default();
    let (sup, _) = Supervisor::start(None, SupervisorSpec::new(flags()))
        .await
        .unwrap();
    let cell = sup.start_child(worker("d1", &log)).await.unwrap();
    assert_eq!(cell.status(), ActorStatus::Running);
    assert!(
        matches!(sup.start_child(worker("d1", &log)).await, Err(SupervisorError::AlreadyPresent(id)) if id == "d1")
    );
    assert!(matches!(
        sup.restart_child("d1").await,
        Err(SupervisorError::Running(_))
    ));
    assert!(matches!(
        sup.delete_child("d1").await,
        Err(SupervisorError::Running(_))
    ));

    sup.terminate_child("d1").await.unwrap();
    assert_eq!(cell.status(), ActorStatus::Stopped);
    assert!(log.contains("d1:post_stop"));
    let info = sup.which_children().await.unwrap();
    assert_eq!(info.len(), 1);
    assert!(info[0].cell.is_none(), "terminated, spec kept");

    let again = sup.restart_child("d1").await.unwrap();
    assert_ne!(again.id(), cell.id());
    sup.terminate_child("d1").await.unwrap();
    sup.delete_child("d1").await.unwrap();
    assert!(sup.which_children().await.unwrap().is_empty());
    assert!(matches!(
        sup.terminate_child("d1").await,
        Err(SupervisorError::NotFound(_))
    ));
    assert!(matches!(
        sup.delete_child("nope").await,
        Err(SupervisorError::NotFound(_))
    ));

    struct NoStart;
    impl Actor for NoStart {
        type Msg = ();
        type State = ();
        type Arguments = ();
        async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
            Err("no".into())
        }
    }
    let err = sup
        .start_child(ChildSpec::new("bad", || (NoStart, ())))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SupervisorError::StartFailed(ref id, _) if id == "bad"),
        "{err}"
    );
    assert_eq!(sup.count_children().await.unwrap().specs, 0);
}

#[tokio::test]
async fn a_child_that_cannot_start_fails_the_supervisor_start_and_stops_the_others() {
    struct NoStart;
    impl Actor for NoStart {
        type Msg = ();
        type State = ();
        type Arguments = ();
        async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
            Err("config missing".into())
        }
    }
    let log = Log::default();
    let s = SupervisorSpec::new(flags())
        .child(worker("ok", &log))
        .child(ChildSpec::new("broken", || (NoStart, ())));
    let err = Supervisor::start(None, s).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("broken") && text.contains("config missing"),
        "{text}"
    );
    assert!(log.contains("ok:post_stop"));
}
