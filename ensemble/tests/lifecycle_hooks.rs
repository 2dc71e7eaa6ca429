//! Lifecycle: hook order, status, startup failure, the JoinHandle.

mod common;

use common::{Log, Work, Worker};
use ensemble::{Actor, ActorProcessingErr, ActorRef, ActorStatus, SpawnError, registry};

#[tokio::test]
async fn hooks_run_in_order_and_join_handle_waits_for_post_stop() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(None, Worker::new("w", &log), ())
        .await
        .unwrap();
    w.cast(Work::Record(1)).unwrap();
    w.cast(Work::Record(2)).unwrap();
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![1, 2]);
    w.stop(None);
    handle.await.unwrap();
    assert_eq!(
        log.snapshot(),
        ["w:pre_start", "w:post_start", "w:1", "w:2", "w:post_stop"]
    );
    assert_eq!(w.status(), ActorStatus::Stopped);
}

struct StatusProbe;

impl Actor for StatusProbe {
    type Msg = ();
    type State = ActorStatus;
    type Arguments = ();
    async fn pre_start(&self, me: ActorRef<()>, _: ()) -> Result<ActorStatus, ActorProcessingErr> {
        Ok(me.status())
    }
}

#[tokio::test]
async fn status_goes_starting_running_stopped() {
    let (probe, handle) = Actor::spawn(None, StatusProbe, ()).await.unwrap();
    assert_eq!(probe.status(), ActorStatus::Running);
    probe.stop(None);
    handle.await.unwrap();
    assert_eq!(probe.status(), ActorStatus::Stopped);
    assert!(!probe.status().is_alive());
}

#[tokio::test]
async fn status_seen_inside_pre_start_is_starting() {
    struct Report(tokio::sync::mpsc::UnboundedSender<ActorStatus>);
    impl Actor for Report {
        type Msg = ();
        type State = ();
        type Arguments = ();
        async fn pre_start(&self, me: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
            self.0.send(me.status()).unwrap();
            Ok(())
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _ = Actor::spawn(None, Report(tx), ()).await.unwrap();
    assert_eq!(rx.recv().await, Some(ActorStatus::Starting));
}

struct FailingStart {
    panic: bool,
}

impl Actor for FailingStart {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        if self.panic {
            panic!("cannot start: disk on fire");
        }
        Err("cannot start: no config".into())
    }
}

#[tokio::test]
async fn pre_start_error_is_startup_failed_and_frees_the_name_at_once() {
    let name = "lifecycle-failing-start";
    let err = Actor::spawn(Some(name.into()), FailingStart { panic: false }, ())
        .await
        .unwrap_err();
    match err {
        SpawnError::StartupFailed(e) => assert!(e.to_string().contains("no config")),
        other => panic!("unexpected {other:?}"),
    }
    assert!(registry::where_is(name).is_none());
    // The name is free at once: a new actor can take it immediately.
    let (ok, _) = Actor::spawn(Some(name.into()), StatusProbe, ())
        .await
        .unwrap();
    assert_eq!(registry::where_is(name).unwrap().id(), ok.id());
}

#[tokio::test]
async fn pre_start_panic_is_startup_failed_with_the_panic_message() {
    let err = Actor::spawn(None, FailingStart { panic: true }, ())
        .await
        .unwrap_err();
    match err {
        SpawnError::StartupFailed(e) => {
            let text = e.to_string();
            assert!(text.contains("disk on fire"), "{text}");
            assert!(text.contains("pre_start"), "{text}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn join_handle_resolves_ok_after_failure_and_kill() {
    let log = Log::default();
    let (a, ha) = Actor::spawn(None, Worker::new("a", &log), ())
        .await
        .unwrap();
    a.cast(Work::Fail("bad".into())).unwrap();
    ha.await.unwrap();
    assert!(log.contains("a:post_stop"));

    let (b, hb) = Actor::spawn(None, Worker::new("b", &log), ())
        .await
        .unwrap();
    b.kill();
    hb.await.unwrap();
    assert!(!log.contains("b:post_stop"));
    assert_eq!(b.status(), ActorStatus::Stopped);
}

/// Hooks may spawn actors: the spawn future is `Send` and may be awaited in a hook.
struct Spawner;

impl Actor for Spawner {
    type Msg = ActorRef<()>;
    type State = Option<ActorRef<()>>;
    type Arguments = ();
    async fn pre_start(
        &self,
        _: ActorRef<Self::Msg>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        let (child, _) = Actor::spawn(None, StatusProbe, ()).await?;
        let spawned =
            tokio::spawn(async { Actor::spawn(None, StatusProbe, ()).await.map(|(r, _)| r) });
        spawned.await??.stop(None);
        Ok(Some(child))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_can_spawn_actors() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let (_spawner, _) = assert_send(Actor::spawn(None, Spawner, ())).await.unwrap();
}

#[tokio::test]
async fn stop_and_wait_returns_after_post_stop() {
    let log = Log::default();
    let (w, _) = Actor::spawn(None, Worker::new("saw", &log), ())
        .await
        .unwrap();
    w.stop_and_wait(None, None).await.unwrap();
    assert!(log.contains("saw:post_stop"));
    // Waiting on an actor that has ended returns at once.
    w.wait(None).await.unwrap();
    w.kill_and_wait(None).await.unwrap();
}

#[tokio::test]
async fn dropping_every_ref_does_not_stop_an_actor() {
    let log = Log::default();
    let (w, handle) = Actor::spawn(Some("lh-unheld".into()), Worker::new("u", &log), ())
        .await
        .unwrap();
    let id = w.id();
    drop(w);
    let again = ActorRef::<Work>::where_is("lh-unheld").expect("still registered");
    assert_eq!(again.id(), id);
    assert_eq!(
        again.call(Work::Get, None).await.unwrap(),
        Vec::<u32>::new()
    );
    assert_eq!(again.status(), ActorStatus::Running);
    again.stop(None);
    handle.await.unwrap();
}

#[tokio::test]
async fn an_aborted_actor_task_releases_its_name_and_tells_its_supervisor() {
    let log = Log::default();
    let sup = ensemble_test::TestProbe::<()>::spawn().await;
    let (w, handle) = Actor::spawn_linked(
        Some("lh-aborted".into()),
        Worker::new("ab", &log),
        (),
        sup.cell(),
    )
    .await
    .unwrap();
    sup.expect_started().await;
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert!(registry::where_is("lh-aborted").is_none());
    assert_eq!(w.status(), ActorStatus::Stopped);
    w.wait(None).await.unwrap();
    match sup.expect_event(std::time::Duration::from_secs(1)).await {
        ensemble::SupervisionEvent::ActorTerminated(cell, None, Some(reason)) => {
            assert_eq!(cell.id(), w.id());
            assert_eq!(reason, "killed");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!log.contains("ab:post_stop"));
}

#[test]
fn actors_left_running_when_their_runtime_ends_release_their_names() {
    let log = Log::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let w = rt.block_on(async {
        let (w, _) = Actor::spawn(
            Some("lh-runtime-dropped".into()),
            Worker::new("rd", &log),
            (),
        )
        .await
        .unwrap();
        w
    });
    assert!(registry::where_is("lh-runtime-dropped").is_some());
    drop(rt);
    assert!(registry::where_is("lh-runtime-dropped").is_none());
    assert_eq!(w.status(), ActorStatus::Stopped);
}

#[tokio::test(start_paused = true)]
async fn stop_children_and_wait_stops_the_children_and_keeps_the_parent() {
    let log = Log::default();
    let (parent, _) = Actor::spawn(None, StatusProbe, ()).await.unwrap();
    let (a, _) = Actor::spawn_linked(None, Worker::new("ca", &log), (), parent.cell())
        .await
        .unwrap();
    let (b, _) = Actor::spawn_linked(None, Worker::new("cb", &log), (), parent.cell())
        .await
        .unwrap();
    parent
        .cell()
        .stop_children_and_wait(None, None)
        .await
        .unwrap();
    assert_eq!(
        (a.status(), b.status()),
        (ActorStatus::Stopped, ActorStatus::Stopped)
    );
    assert!(log.contains("ca:post_stop") && log.contains("cb:post_stop"));
    assert_eq!(parent.status(), ActorStatus::Running);
    // A child that never finishes its handler makes the wait time out.
    let (c, _) = Actor::spawn_linked(None, Worker::new("cc", &log), (), parent.cell())
        .await
        .unwrap();
    common::hang(&c).await;
    let err = parent
        .cell()
        .stop_children_and_wait(None, Some(std::time::Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert_eq!(err.0, std::time::Duration::from_secs(1));
}
