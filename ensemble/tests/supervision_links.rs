//! Links: supervision events, default escalation, ordered shutdown of children,
//! final state hand-over, name release before notification.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker};
use ensemble::{
    Actor, ActorCell, ActorProcessingErr, ActorRef, ActorStatus, BoxedStateError, SupervisionEvent,
    registry,
};
use ensemble_test::TestProbe;

const SEC: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn actor_started_is_the_first_event_then_terminated_with_reason() {
    let probe = TestProbe::<()>::spawn().await;
    let sup = probe.cell();
    let (w, _) = Actor::spawn_linked(None, Worker::new("c", &Log::default()), (), sup.clone())
        .await
        .unwrap();
    assert_eq!(probe.expect_started().await.id(), w.id());
    assert_eq!(w.cell().supervisor(), Some(sup.clone()));
    assert_eq!(sup.children(), vec![w.cell()]);
    w.cast(Work::Record(3)).unwrap();
    assert_eq!(w.call(Work::Get, None).await.unwrap(), vec![3]);
    w.stop(Some("bye".into()));
    match probe.expect_event(SEC).await {
        SupervisionEvent::ActorTerminated(cell, Some(mut state), Some(reason)) => {
            assert_eq!(cell, w.cell());
            assert_eq!(reason, "bye");
            // A wrong type leaves the state in place; the right one takes it once.
            assert_eq!(
                state.take::<String>().unwrap_err(),
                BoxedStateError::WrongType
            );
            assert_eq!(state.take::<Vec<u32>>().unwrap(), vec![3]);
            assert_eq!(
                state.take::<Vec<u32>>().unwrap_err(),
                BoxedStateError::AlreadyTaken
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        sup.children().is_empty(),
        "children() lists live children only"
    );
}

/// A parent with default supervision, itself supervised by a test probe.
struct Parent;

impl Actor for Parent {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_child_fails_its_parent_by_default() {
    let log = Log::default();
    let sup = TestProbe::<()>::spawn().await;
    let (parent, _) = Actor::spawn_linked(None, Parent, (), sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    let (child, _) = Actor::spawn_linked(
        Some("sl-failing-child".into()),
        Worker::new("fc", &log),
        (),
        parent.cell(),
    )
    .await
    .unwrap();
    child.cast(Work::Fail("disk full".into())).unwrap();
    let (cell, chain) = sup.expect_failed().await;
    assert_eq!(cell, parent.cell());
    assert!(chain.contains("sl-failing-child"), "{chain}");
    assert!(chain.contains("disk full"), "{chain}");
    assert_eq!(parent.status(), ActorStatus::Stopped);
    assert!(log.contains("fc:post_stop"));
}

#[tokio::test(start_paused = true)]
async fn a_child_that_stops_normally_is_ignored_by_default() {
    let (parent, _) = Actor::spawn(None, Parent, ()).await.unwrap();
    let (child, child_handle) =
        Actor::spawn_linked(None, Worker::new("n", &Log::default()), (), parent.cell())
            .await
            .unwrap();
    child.stop(None);
    child_handle.await.unwrap();
    // The event was queued before this inspection, and events go first: handled by now.
    parent.inspect(|_: &mut ()| ()).await.unwrap();
    assert_eq!(parent.status(), ActorStatus::Running);
    assert!(parent.cell().children().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_panic_is_reported_as_actor_failed_with_its_message_after_post_stop() {
    let log = Log::default();
    let sup = TestProbe::<()>::spawn().await;
    let (w, _) = Actor::spawn_linked(None, Worker::new("p", &log), (), sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    w.cast(Work::Panic("boom 42".into())).unwrap();
    let (cell, error) = sup.expect_failed().await;
    assert_eq!(cell, w.cell());
    assert!(error.contains("boom 42"), "{error}");
    // post_stop ran before the supervisor heard of the failure.
    assert!(log.contains("p:post_stop"));
}

#[tokio::test(start_paused = true)]
async fn killed_child_reports_killed_without_state() {
    let sup = TestProbe::<()>::spawn().await;
    let (w, _) = Actor::spawn_linked(None, Worker::new("kk", &Log::default()), (), sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    w.kill();
    match sup.expect_event(SEC).await {
        SupervisionEvent::ActorTerminated(_, state, Some(reason)) => {
            assert!(state.is_none());
            assert_eq!(reason, "killed");
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A parent that starts three logging children in `pre_start`.
struct Family {
    log: Log,
    fail: bool,
}

impl Actor for Family {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, me: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        for label in ["c1", "c2", "c3"] {
            Actor::spawn_linked(None, Worker::new(label, &self.log), (), me.cell()).await?;
        }
        Ok(())
    }
    async fn handle(&self, _: ActorRef<()>, _: (), _: &mut ()) -> Result<(), ActorProcessingErr> {
        if self.fail {
            return Err("parent broke".into());
        }
        Ok(())
    }
    async fn post_stop(&self, me: ActorRef<()>, _: &mut ()) -> Result<(), ActorProcessingErr> {
        // Every child has ended before the parent's own post_stop.
        assert!(me.cell().children().is_empty());
        self.log.push("parent:post_stop");
        Ok(())
    }
}

fn stop_order(log: &Log) -> Vec<String> {
    log.snapshot()
        .into_iter()
        .filter(|l| l.ends_with("post_stop"))
        .collect()
}

#[tokio::test]
async fn a_stopping_parent_stops_children_last_started_first_before_its_post_stop() {
    let log = Log::default();
    let (parent, handle) = Actor::spawn(
        None,
        Family {
            log: log.clone(),
            fail: false,
        },
        (),
    )
    .await
    .unwrap();
    assert_eq!(parent.cell().children().len(), 3);
    parent.stop(None);
    handle.await.unwrap();
    assert_eq!(
        stop_order(&log),
        [
            "c3:post_stop",
            "c2:post_stop",
            "c1:post_stop",
            "parent:post_stop"
        ]
    );
}

#[tokio::test]
async fn a_failing_parent_stops_children_first_too() {
    let log = Log::default();
    let (parent, handle) = Actor::spawn(
        None,
        Family {
            log: log.clone(),
            fail: true,
        },
        (),
    )
    .await
    .unwrap();
    parent.cast(()).unwrap();
    handle.await.unwrap();
    assert_eq!(
        stop_order(&log),
        [
            "c3:post_stop",
            "c2:post_stop",
            "c1:post_stop",
            "parent:post_stop"
        ]
    );
}

#[tokio::test]
async fn a_killed_parent_kills_its_children() {
    let log = Log::default();
    let (parent, handle) = Actor::spawn(
        None,
        Family {
            log: log.clone(),
            fail: false,
        },
        (),
    )
    .await
    .unwrap();
    let children = parent.cell().children();
    parent.kill();
    handle.await.unwrap();
    assert!(stop_order(&log).is_empty(), "no post_stop after a kill");
    assert!(children.iter().all(|c| c.status() == ActorStatus::Stopped));
}

/// Respawns its child under the same name from inside `handle_supervisor_evt`.
struct Respawner {
    log: Log,
    name: String,
    report: tokio::sync::mpsc::UnboundedSender<(bool, Option<ActorCell>)>,
}

impl Actor for Respawner {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, me: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Actor::spawn_linked(
            Some(self.name.clone()),
            Worker::new("r", &self.log),
            (),
            me.cell(),
        )
        .await?;
        Ok(())
    }
    async fn handle_supervisor_evt(
        &self,
        me: ActorRef<()>,
        evt: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(..) = evt {
            let free = registry::where_is(&self.name).is_none();
            let respawned = Actor::spawn_linked(
                Some(self.name.clone()),
                Worker::new("r2", &self.log),
                (),
                me.cell(),
            )
            .await
            .ok()
            .map(|(r, _)| r.cell());
            let _ = self.report.send((free, respawned));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_name_is_released_before_the_supervisor_hears_so_it_can_respawn_it() {
    let log = Log::default();
    let name = "sl-respawned".to_string();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (_parent, _) = Actor::spawn(
        None,
        Respawner {
            log: log.clone(),
            name: name.clone(),
            report: tx,
        },
        (),
    )
    .await
    .unwrap();
    let first = ActorRef::<Work>::where_is(&name).unwrap();
    first.cast(Work::Fail("crash".into())).unwrap();
    let (was_free, respawned) = rx.recv().await.unwrap();
    assert!(was_free);
    let respawned = respawned.expect("respawn under the same name");
    assert_ne!(respawned.id(), first.id());
    assert_eq!(registry::where_is(&name).unwrap().id(), respawned.id());
}

#[tokio::test(start_paused = true)]
async fn join_handle_resolves_after_the_supervisor_was_told() {
    let sup = TestProbe::<()>::spawn().await;
    let (w, handle) = Actor::spawn_linked(None, Worker::new("j", &Log::default()), (), sup.cell())
        .await
        .unwrap();
    sup.expect_started().await;
    w.stop(None);
    handle.await.unwrap();
    // The event was queued before the handle resolved: the probe has it after a flush,
    // without waiting.
    sup.flush().await;
    assert!(matches!(
        sup.expect_event(Duration::ZERO).await,
        SupervisionEvent::ActorTerminated(cell, ..) if cell == w.cell()
    ));
}

#[tokio::test(start_paused = true)]
async fn link_and_unlink_by_hand() {
    let probe = TestProbe::<()>::spawn().await;
    let sup = probe.cell();
    let (w, _) = Actor::spawn(None, Worker::new("l", &Log::default()), ())
        .await
        .unwrap();
    w.cell().link(sup.clone());
    assert_eq!(w.cell().supervisor(), Some(sup.clone()));
    w.cell().unlink(sup.clone());
    assert!(w.cell().supervisor().is_none());
    assert!(sup.children().is_empty());
    w.cell().link(sup.clone());
    w.stop(None);
    assert_eq!(probe.expect_terminated().await.0, w.cell());
}

#[tokio::test]
async fn a_child_spawned_under_an_ended_supervisor_is_stopped() {
    let log = Log::default();
    let (parent, handle) = Actor::spawn(None, Parent, ()).await.unwrap();
    parent.stop(None);
    handle.await.unwrap();
    let (child, child_handle) =
        Actor::spawn_linked(None, Worker::new("orphan", &log), (), parent.cell())
            .await
            .unwrap();
    child_handle.await.unwrap();
    assert_eq!(child.status(), ActorStatus::Stopped);
}

#[tokio::test]
async fn link_refuses_ended_actors_and_cycles() {
    let log = Log::default();
    let (a, _) = Actor::spawn(None, Worker::new("la", &log), ())
        .await
        .unwrap();
    let (b, _) = Actor::spawn_linked(None, Worker::new("lb", &log), (), a.cell())
        .await
        .unwrap();
    let (c, _) = Actor::spawn_linked(None, Worker::new("lc", &log), (), b.cell())
        .await
        .unwrap();
    // a -> b -> c; making c (or b) supervise a would be a cycle.
    a.cell().link(c.cell());
    a.cell().link(b.cell());
    a.cell().link(a.cell());
    assert!(a.cell().supervisor().is_none());
    assert!(c.cell().children().is_empty() && b.cell().children() == vec![c.cell()]);
    // An ended actor is not added to anyone's children.
    let (d, dh) = Actor::spawn(None, Worker::new("ld", &log), ())
        .await
        .unwrap();
    d.stop(None);
    dh.await.unwrap();
    d.cell().link(a.cell());
    assert_eq!(a.cell().children(), vec![b.cell()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossed_links_never_form_a_cycle_and_every_pair_still_stops() {
    for _ in 0..200 {
        let log = Log::default();
        let (a, ha) = Actor::spawn(None, Worker::new("xa", &log), ())
            .await
            .unwrap();
        let (b, hb) = Actor::spawn(None, Worker::new("xb", &log), ())
            .await
            .unwrap();
        let (ca, cb) = (a.cell(), b.cell());
        let one = tokio::spawn({
            let (ca, cb) = (ca.clone(), cb.clone());
            async move { ca.link(cb) }
        });
        let two = tokio::spawn({
            let (ca, cb) = (ca.clone(), cb.clone());
            async move { cb.link(ca) }
        });
        one.await.unwrap();
        two.await.unwrap();
        // At most one direction won.
        let a_under_b = ca.supervisor() == Some(cb.clone());
        let b_under_a = cb.supervisor() == Some(ca.clone());
        assert!(!(a_under_b && b_under_a), "a cycle was formed");
        // Stopping the top one stops both (a cycle would hang here).
        let top = if a_under_b { b.clone() } else { a.clone() };
        top.stop_and_wait(None, Some(std::time::Duration::from_secs(10)))
            .await
            .unwrap();
        if a_under_b || b_under_a {
            ha.await.unwrap();
            hb.await.unwrap();
        } else {
            a.stop(None);
            b.stop(None);
            ha.await.unwrap();
            hb.await.unwrap();
        }
    }
}

/// Spawns a linked child in `pre_start`, puts it in a blocking handler, hands it and its
/// gate out, then fails to start.
struct FailingParent;

type Handout = tokio::sync::oneshot::Sender<(ActorRef<Work>, tokio::sync::oneshot::Sender<()>)>;

impl Actor for FailingParent {
    type Msg = ();
    type State = ();
    type Arguments = (Log, Handout);
    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        (log, handout): (Log, Handout),
    ) -> Result<(), ActorProcessingErr> {
        let (child, _) =
            Actor::spawn_linked(None, Worker::new("c", &log), (), myself.cell()).await?;
        let gate = common::block(&child).await;
        let _ = handout.send((child, gate));
        Err("parent gives up".into())
    }
}

/// A parent that fails to start stops its children without waiting; until each has
/// ended, `children()` still lists it (live children), and then no longer does.
#[tokio::test]
async fn an_ended_parent_lists_its_children_until_they_have_ended() {
    let log = Log::default();
    let (tx, rx) = tokio::sync::oneshot::channel();
    assert!(Actor::spawn(None, FailingParent, (log, tx)).await.is_err());
    let (child, gate) = rx.await.unwrap();
    let parent = child
        .cell()
        .supervisor()
        .expect("still linked while it ends");
    assert_eq!(parent.status(), ActorStatus::Stopped);
    // The child is still in its handler: asked to stop, not yet ended.
    assert!(child.status().is_alive());
    assert_eq!(parent.children(), vec![child.cell()]);
    gate.send(()).unwrap();
    child.cell().wait(None).await.unwrap();
    assert!(parent.children().is_empty());
}
