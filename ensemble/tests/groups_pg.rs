//! Process groups: join, leave, members, scopes, automatic leave on end, monitors
//! without duplicates, typed broadcast.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker};
use ensemble::pg::{self, GroupChange};
use ensemble::{Actor, ActorCell, SupervisionEvent};
use ensemble_test::TestProbe;

async fn workers(log: &Log, n: usize) -> Vec<ensemble::ActorRef<Work>> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(
            Actor::spawn(None, Worker::new(&format!("g{i}"), log), ())
                .await
                .unwrap()
                .0,
        );
    }
    v
}

fn change(evt: SupervisionEvent) -> (bool, String, String, Vec<ActorCell>) {
    match evt {
        SupervisionEvent::ProcessGroupChanged(GroupChange::Join {
            scope,
            group,
            actors,
        }) => (true, scope, group, actors),
        SupervisionEvent::ProcessGroupChanged(GroupChange::Leave {
            scope,
            group,
            actors,
        }) => (false, scope, group, actors),
        other => panic!("expected a group change, got {other:?}"),
    }
}

#[tokio::test]
async fn join_leave_members_and_groups() {
    let log = Log::default();
    let w = workers(&log, 3).await;
    pg::join("pg-t1", vec![w[0].cell(), w[1].cell()]);
    pg::join("pg-t1", vec![w[1].cell()]); // already a member: no duplicate
    pg::join_scoped("pg-scope-a", "pg-t1", vec![w[2].cell()]);
    assert_eq!(pg::members("pg-t1"), vec![w[0].cell(), w[1].cell()]);
    assert_eq!(pg::local_members("pg-t1").len(), 2);
    assert_eq!(pg::members_scoped("pg-scope-a", "pg-t1"), vec![w[2].cell()]);
    assert!(pg::which_groups().contains(&"pg-t1".to_string()));
    assert_eq!(
        pg::which_groups_scoped("pg-scope-a"),
        vec!["pg-t1".to_string()]
    );
    assert!(pg::which_scopes().contains(&"pg-scope-a".to_string()));
    pg::leave("pg-t1", vec![w[0].cell()]);
    assert_eq!(pg::members("pg-t1"), vec![w[1].cell()]);
    pg::leave("pg-t1", vec![w[1].cell()]);
    assert!(pg::members("pg-t1").is_empty());
    assert!(
        !pg::which_groups().contains(&"pg-t1".to_string()),
        "empty groups disappear"
    );
}

#[tokio::test]
async fn members_leave_when_they_end_however_they_end() {
    let log = Log::default();
    let w = workers(&log, 3).await;
    let cells: Vec<_> = w.iter().map(|r| r.cell()).collect();
    pg::join("pg-t2", cells.clone());
    pg::join_scoped("pg-scope-b", "pg-t2b", vec![cells[0].clone()]);
    w[0].stop_and_wait(None, None).await.unwrap();
    w[1].cast(Work::Panic("down".into())).unwrap();
    w[1].wait(None).await.unwrap();
    w[2].kill_and_wait(None).await.unwrap();
    assert!(pg::members("pg-t2").is_empty());
    assert!(pg::members_scoped("pg-scope-b", "pg-t2b").is_empty());
    // An ended actor cannot join.
    pg::join("pg-t2", vec![cells[0].clone()]);
    assert!(pg::members("pg-t2").is_empty());
}

#[tokio::test]
async fn watchers_hear_each_change_once() {
    let log = Log::default();
    let w = workers(&log, 2).await;
    let probe = TestProbe::<()>::spawn().await;
    let watcher = probe.cell();
    let next = || async { change(probe.expect_event(Duration::from_secs(5)).await) };
    // Watching both the group and its whole scope must not double the events.
    pg::monitor("pg-scope-c", "pg-t3", watcher.clone());
    pg::monitor_scope("pg-scope-c", watcher.clone());
    pg::join_scoped("pg-scope-c", "pg-t3", vec![w[0].cell(), w[1].cell()]);
    let (joined, scope, group, actors) = next().await;
    assert!(joined);
    assert_eq!((scope.as_str(), group.as_str()), ("pg-scope-c", "pg-t3"));
    assert_eq!(actors, vec![w[0].cell(), w[1].cell()]);
    w[0].stop_and_wait(None, None).await.unwrap();
    let (joined, _, _, actors) = next().await;
    assert!(!joined);
    assert_eq!(actors, vec![w[0].cell()]);
    // Another group in the same scope reaches the scope watcher only.
    pg::join_scoped("pg-scope-c", "pg-other", vec![w[1].cell()]);
    let (_, _, group, _) = next().await;
    assert_eq!(group, "pg-other");
    // No duplicates (a flush: everything sent so far has been taken).
    probe.flush().await;
    probe.expect_no_event(Duration::ZERO).await;
    // After demonitor, nothing more.
    pg::demonitor("pg-scope-c", "pg-t3", &watcher);
    pg::demonitor_scope("pg-scope-c", &watcher);
    pg::leave_scoped("pg-scope-c", "pg-t3", vec![w[1].cell()]);
    probe.flush().await;
    probe.expect_no_event(Duration::ZERO).await;
}

/// Logs every note it is sent.
struct Notes(Log);

impl Actor for Notes {
    type Msg = u32;
    type State = ();
    type Arguments = ();
    async fn pre_start(
        &self,
        _: ensemble::ActorRef<u32>,
        _: (),
    ) -> Result<(), ensemble::ActorProcessingErr> {
        Ok(())
    }
    async fn handle(
        &self,
        me: ensemble::ActorRef<u32>,
        n: u32,
        _: &mut (),
    ) -> Result<(), ensemble::ActorProcessingErr> {
        self.0.push(format!("{}:{n}", me.id()));
        Ok(())
    }
}

#[tokio::test]
async fn broadcast_reaches_members_of_the_right_type() {
    let log = Log::default();
    let (a, _) = Actor::spawn(None, Notes(log.clone()), ()).await.unwrap();
    let (b, _) = Actor::spawn(None, Notes(log.clone()), ()).await.unwrap();
    let (other, _) = Actor::spawn(None, Worker::new("other", &log), ())
        .await
        .unwrap();
    pg::join("pg-t4", vec![a.cell(), b.cell(), other.cell()]);
    assert_eq!(pg::broadcast("pg-t4", 9u32), 2, "only the u32 actors");
    a.drain_and_wait(None).await.unwrap(); // handles what is queued, then stops
    b.drain_and_wait(None).await.unwrap();
    assert!(log.contains(&format!("{}:9", a.id())));
    assert!(log.contains(&format!("{}:9", b.id())));
}

#[tokio::test]
async fn joining_only_ended_actors_leaves_no_empty_group() {
    let log = Log::default();
    let w = workers(&log, 1).await;
    w[0].stop_and_wait(None, None).await.unwrap();
    pg::join("pg-t5", vec![w[0].cell()]);
    assert!(!pg::which_groups().contains(&"pg-t5".to_string()));
}

/// Joins a group and is monitored during `pre_start`, then fails to start.
struct FailsAfterJoining(ActorCell);

impl Actor for FailsAfterJoining {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(
        &self,
        me: ensemble::ActorRef<()>,
        _: (),
    ) -> Result<(), ensemble::ActorProcessingErr> {
        pg::join_scoped("pg-scope-f", "pg-t6", vec![me.cell()]);
        self.0.monitor(me.cell());
        Err("cannot start".into())
    }
}

#[tokio::test]
async fn an_actor_that_fails_to_start_leaves_its_groups_and_tells_its_watchers() {
    let probe = TestProbe::<()>::spawn().await;
    assert!(
        Actor::spawn(None, FailsAfterJoining(probe.cell()), ())
            .await
            .is_err()
    );
    assert!(pg::members_scoped("pg-scope-f", "pg-t6").is_empty());
    assert!(
        !pg::which_scopes().contains(&"pg-scope-f".to_string()),
        "empty scopes are pruned"
    );
    match probe.expect_down().await {
        (_, ensemble::ExitReason::Failed(why)) => assert!(why.contains("start")),
        other => panic!("unexpected {other:?}"),
    }
}
