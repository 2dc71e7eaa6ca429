//! The OTP Supervisor: strategies, restart types, intensity and backoff.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker, hang};
use ensemble::supervisor::{
    Backoff, ChildInfo, ChildSpec, IntensityExceeded, Restart, Strategy, Supervisor,
    SupervisorFlags, SupervisorMsg, SupervisorSpec,
};
use ensemble::{ActorId, ActorRef, ActorStatus, SupervisionEvent};
use ensemble_test::TestProbe;

fn worker(id: &'static str, log: &Log) -> ChildSpec {
    let log = log.clone();
    ChildSpec::new(id, move || (Worker::new(id, &log), ()))
}

fn spec(strategy: Strategy, log: &Log, ids: &[&'static str]) -> SupervisorSpec {
    let mut s =
        SupervisorSpec::new(SupervisorFlags::new(strategy).intensity(10, Duration::from_secs(5)));
    for id in ids {
        s = s.child(worker(id, log));
    }
    s
}

async fn children(sup: &ActorRef<SupervisorMsg>) -> Vec<ChildInfo> {
    sup.which_children().await.unwrap()
}

fn ids(children: &[ChildInfo]) -> Vec<Option<ActorId>> {
    children
        .iter()
        .map(|c| c.cell.as_ref().map(|c| c.id()))
        .collect()
}

/// Makes child `idx` end (`how`), waits for its end and for the supervisor to act on it.
async fn end_child(sup: &ActorRef<SupervisorMsg>, idx: usize, how: &str) {
    let cell = children(sup).await[idx]
        .cell
        .clone()
        .expect("child running");
    let child = cell.clone().into_ref::<Work>().unwrap();
    match how {
        "fail" => child
            .cast(Work::Fail(format!("child {idx} broke")))
            .unwrap(),
        "panic" => child.cast(Work::Panic("kaboom".into())).unwrap(),
        "stop" => child.stop(None),
        "kill" => {
            hang(&child).await;
            child.kill()
        }
        _ => unreachable!(),
    }
    cell.wait(None).await.unwrap();
}

#[tokio::test]
async fn children_start_in_spec_order() {
    let log = Log::default();
    let (sup, _) = Supervisor::start(None, spec(Strategy::OneForOne, &log, &["a", "b", "c"]))
        .await
        .unwrap();
    let starts: Vec<_> = log
        .snapshot()
        .into_iter()
        .filter(|l| l.ends_with("pre_start"))
        .collect();
    assert_eq!(starts, ["a:pre_start", "b:pre_start", "c:pre_start"]);
    assert!(children(&sup).await.iter().all(|c| c.cell.is_some()));
}

#[tokio::test]
async fn one_for_one_restarts_only_the_failed_child() {
    let log = Log::default();
    let (sup, _) = Supervisor::start(None, spec(Strategy::OneForOne, &log, &["a", "b", "c"]))
        .await
        .unwrap();
    let before = ids(&children(&sup).await);
    end_child(&sup, 1, "fail").await;
    let after = children(&sup).await;
    let now = ids(&after);
    assert_eq!(now[0], before[0]);
    assert_ne!(now[1], before[1]);
    assert!(now[1].is_some());
    assert_eq!(now[2], before[2]);
    assert_eq!(
        after.iter().map(|c| c.restarts).collect::<Vec<_>>(),
        [0, 1, 0]
    );
}

#[tokio::test]
async fn one_for_all_restarts_every_child_stopping_the_others_in_reverse() {
    let log = Log::default();
    let (sup, _) = Supervisor::start(None, spec(Strategy::OneForAll, &log, &["a", "b", "c"]))
        .await
        .unwrap();
    let before = ids(&children(&sup).await);
    end_child(&sup, 1, "fail").await;
    let now = ids(&children(&sup).await);
    for i in 0..3 {
        assert!(
            now[i].is_some() && now[i] != before[i],
            "child {i} was not restarted"
        );
    }
    let stops: Vec<_> = log
        .snapshot()
        .into_iter()
        .filter(|l| l.ends_with("post_stop"))
        .collect();
    assert_eq!(stops, ["b:post_stop", "c:post_stop", "a:post_stop"]);
    let restarts: Vec<_> = log
        .snapshot()
        .into_iter()
        .filter(|l| l.ends_with("pre_start"))
        .skip(3)
        .collect();
    assert_eq!(restarts, ["a:pre_start", "b:pre_start", "c:pre_start"]);
}

#[tokio::test]
async fn rest_for_one_restarts_the_failed_child_and_those_after_it() {
    let log = Log::default();
    let (sup, _) = Supervisor::start(
        None,
        spec(Strategy::RestForOne, &log, &["a", "b", "c", "d"]),
    )
    .await
    .unwrap();
    let before = ids(&children(&sup).await);
    end_child(&sup, 1, "fail").await;
    let now = ids(&children(&sup).await);
    assert_eq!(now[0], before[0]);
    for i in 1..4 {
        assert!(
            now[i].is_some() && now[i] != before[i],
            "child {i} was not restarted"
        );
    }
    let stops: Vec<_> = log
        .snapshot()
        .into_iter()
        .filter(|l| l.ends_with("post_stop"))
        .collect();
    assert_eq!(stops, ["b:post_stop", "d:post_stop", "c:post_stop"]);
}

#[tokio::test]
async fn restart_types_decide_who_comes_back() {
    let log = Log::default();
    let flags = SupervisorFlags::new(Strategy::OneForOne).intensity(20, Duration::from_secs(5));
    let s = SupervisorSpec::new(flags)
        .child(worker("perm", &log).restart(Restart::Permanent))
        .child(worker("trans", &log).restart(Restart::Transient))
        .child(worker("temp", &log).restart(Restart::Temporary));
    let (sup, _) = Supervisor::start(None, s).await.unwrap();

    // Permanent: restarted even after a normal stop.
    end_child(&sup, 0, "stop").await;
    assert!(children(&sup).await[0].cell.is_some());
    assert_eq!(children(&sup).await[0].restarts, 1);
    // Transient: restarted after a failure, a panic or a kill…
    for how in ["fail", "panic", "kill"] {
        end_child(&sup, 1, how).await;
        assert!(
            children(&sup).await[1].cell.is_some(),
            "transient after {how}"
        );
    }
    assert_eq!(children(&sup).await[1].restarts, 3);
    // …but not after a normal stop; its spec stays.
    end_child(&sup, 1, "stop").await;
    let now = children(&sup).await;
    assert!(now[1].cell.is_none());
    assert_eq!(now[1].id, "trans");
    // Temporary: never restarted, and its spec leaves the tree.
    end_child(&sup, 2, "fail").await;
    let now = children(&sup).await;
    assert_eq!(
        now.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["perm", "trans"]
    );
}

#[tokio::test]
async fn exceeding_the_intensity_stops_every_child_and_fails_the_supervisor_naming_the_child() {
    let log = Log::default();
    let top = TestProbe::<()>::spawn().await;
    let flags = SupervisorFlags::new(Strategy::OneForOne).intensity(2, Duration::from_secs(5));
    let s = SupervisorSpec::new(flags)
        .child(worker("steady", &log))
        .child(worker("crashy", &log));
    let (sup, handle) = Supervisor::start_linked(None, s, top.cell()).await.unwrap();
    top.expect_started().await;
    end_child(&sup, 1, "fail").await;
    end_child(&sup, 1, "fail").await;
    let steady = children(&sup).await[0].cell.clone().unwrap();
    let last = children(&sup).await[1].cell.clone().unwrap();
    last.into_ref::<Work>()
        .unwrap()
        .cast(Work::Fail("third strike".into()))
        .unwrap();
    handle.await.unwrap();
    assert_eq!(sup.status(), ActorStatus::Stopped);
    assert_eq!(steady.status(), ActorStatus::Stopped);
    assert!(log.contains("steady:post_stop"));
    match top.expect_event(Duration::from_secs(1)).await {
        SupervisionEvent::ActorFailed(cell, err) => {
            assert_eq!(cell.id(), sup.id());
            let e = err
                .downcast_ref::<IntensityExceeded>()
                .expect("IntensityExceeded");
            assert_eq!(e.child, "crashy");
            assert!(err.to_string().contains("crashy") && err.to_string().contains("third strike"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn restarts_outside_the_period_do_not_count() {
    let log = Log::default();
    let flags = SupervisorFlags::new(Strategy::OneForOne).intensity(1, Duration::from_secs(5));
    let (sup, _) = Supervisor::start(None, SupervisorSpec::new(flags).child(worker("slow", &log)))
        .await
        .unwrap();
    for _ in 0..4 {
        end_child(&sup, 0, "fail").await;
        // As in OTP, a restart exactly one period old is still in the window.
        tokio::time::advance(Duration::from_secs(5) + Duration::from_millis(1)).await;
    }
    assert_eq!(sup.status(), ActorStatus::Running);
    assert_eq!(children(&sup).await[0].restarts, 4);
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_restarts_exponentially_and_resets_after_a_stable_run() {
    let log = Log::default();
    let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1))
        .reset_after(Duration::from_secs(30));
    let flags = SupervisorFlags::new(Strategy::OneForOne)
        .intensity(100, Duration::from_secs(5))
        .backoff(backoff);
    let (sup, _) = Supervisor::start(None, SupervisorSpec::new(flags).child(worker("b", &log)))
        .await
        .unwrap();

    for expected in [100u64, 200, 400, 800, 1000] {
        end_child(&sup, 0, "fail").await;
        let failed_at = tokio::time::Instant::now();
        assert!(
            children(&sup).await[0].cell.is_none(),
            "restarted before its delay"
        );
        // Wait for the restart through the supervisor itself (its timer), not a sleep.
        loop {
            tokio::time::advance(Duration::from_millis(1)).await;
            if children(&sup).await[0].cell.is_some() {
                break;
            }
        }
        let waited = failed_at.elapsed();
        assert!(
            waited >= Duration::from_millis(expected)
                && waited <= Duration::from_millis(expected + 2),
            "expected about {expected} ms, waited {waited:?}"
        );
    }
    // A run longer than reset_after starts the delays from the minimum again.
    tokio::time::advance(Duration::from_secs(31)).await;
    end_child(&sup, 0, "fail").await;
    let failed_at = tokio::time::Instant::now();
    loop {
        tokio::time::advance(Duration::from_millis(1)).await;
        if children(&sup).await[0].cell.is_some() {
            break;
        }
    }
    assert!(failed_at.elapsed() <= Duration::from_millis(102));
}

#[test]
fn backoff_jitter_stays_within_its_bound() {
    let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10)).jitter(0.5);
    for i in 0..100 {
        let r = i as f64 / 100.0;
        let d = b.delay(1, r);
        assert!(
            d >= Duration::from_millis(200) && d <= Duration::from_millis(300),
            "{d:?}"
        );
    }
    assert_eq!(b.factor(3.0).delay(2, 0.0), Duration::from_millis(900));
}

#[tokio::test]
async fn a_restarted_child_keeps_its_name_and_the_old_ref_fails_cleanly() {
    let log = Log::default();
    let flags = SupervisorFlags::new(Strategy::OneForOne);
    let s = SupervisorSpec::new(flags).child(worker("named", &log).name("sup-named-child"));
    let (sup, _) = Supervisor::start(None, s).await.unwrap();
    let old = ActorRef::<Work>::where_is("sup-named-child").unwrap();
    end_child(&sup, 0, "fail").await;
    let new = ActorRef::<Work>::where_is("sup-named-child").unwrap();
    assert_ne!(old.id(), new.id());
    assert_eq!(
        Some(new.id()),
        children(&sup).await[0].cell.as_ref().map(|c| c.id())
    );
    assert!(old.cast(Work::Record(1)).unwrap_err().is_closed());
    new.cast(Work::Record(2)).unwrap();
    assert_eq!(new.call(Work::Get, None).await.unwrap(), vec![2]);
}

/// A killed supervisor skips `post_stop`; its pending backoff timers still end with it
/// (they would otherwise sleep on, holding a reference to it).
#[tokio::test(start_paused = true)]
async fn a_killed_supervisor_leaves_no_backoff_timer_behind() {
    let log = Log::default();
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let flags = SupervisorFlags::new(Strategy::OneForOne)
        .intensity(100, Duration::from_secs(5))
        .backoff(Backoff::new(
            Duration::from_secs(60),
            Duration::from_secs(60),
        ));
    let (sup, _) = Supervisor::start(None, SupervisorSpec::new(flags).child(worker("t", &log)))
        .await
        .unwrap();
    end_child(&sup, 0, "fail").await;
    assert!(children(&sup).await[0].cell.is_none(), "restart is pending");
    // The supervisor and its timer.
    assert_eq!(metrics.num_alive_tasks(), baseline + 2);
    sup.kill_and_wait(None).await.unwrap();
    for _ in 0..100 {
        if metrics.num_alive_tasks() == baseline {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        metrics.num_alive_tasks(),
        baseline,
        "a timer task outlived its supervisor"
    );
}

/// A supervisor must never lose its own messages (a shed restart timer would leave a
/// child down for good), so it refuses to start with a mailbox that sheds, saying why.
#[tokio::test]
async fn a_supervisor_refuses_a_shedding_mailbox() {
    use ensemble::{Actor, Overflow, SpawnOptions};
    let log = Log::default();
    for overflow in [Overflow::DropOldest, Overflow::DropNewest] {
        let options = SpawnOptions::new().capacity(8, overflow);
        let spec = spec(Strategy::OneForOne, &log, &["a"]);
        match Actor::spawn_with(options, Supervisor, spec).await {
            Err(e) => assert!(e.to_string().contains("must not shed"), "{e}"),
            Ok(_) => panic!("{overflow:?}: a shedding supervisor started"),
        }
    }
    for overflow in [Overflow::Reject, Overflow::Wait] {
        let options = SpawnOptions::new().capacity(8, overflow);
        let spec = spec(Strategy::OneForOne, &log, &["a"]);
        let (sup, _) = Actor::spawn_with(options, Supervisor, spec).await.unwrap();
        assert_eq!(children(&sup).await.len(), 1);
        sup.stop_and_wait(None, None).await.unwrap();
    }
}
