//! What the runtime reports through `tracing`: failures nobody supervises, dead letters.

mod common;

use std::sync::{Arc, Mutex};

use common::capture::run_captured;
use common::{Log, Work, Worker, block};
use ensemble::Actor;
use tracing::Level;

#[test]
fn a_failure_nobody_supervises_is_logged_at_error() {
    let events = run_captured(async {
        let log = Log::default();
        let (w, handle) = Actor::spawn(None, Worker::new("lonely", &log), ())
            .await
            .unwrap();
        w.cast(Work::Fail("unseen failure".into())).unwrap();
        handle.await.unwrap();
    });
    assert!(
        events
            .iter()
            .any(|(lvl, _, f)| *lvl == Level::ERROR && f.contains("unseen failure")),
        "{events:?}"
    );
}

#[test]
fn dead_letters_are_reported_on_their_target() {
    let events = run_captured(async {
        let log = Log::default();
        let (w, handle) = Actor::spawn(None, Worker::new("dl", &log), ())
            .await
            .unwrap();
        let gate = block(&w).await;
        w.cast(Work::Record(1)).unwrap();
        w.cast(Work::Record(2)).unwrap();
        w.stop(None);
        gate.send(()).unwrap();
        handle.await.unwrap();
    });
    assert!(
        events.iter().any(|(lvl, target, f)| *lvl == Level::DEBUG
            && target == "ensemble::dead_letters"
            && f.contains("count=2")),
        "{events:?}"
    );
}

/// The lifecycle steps an actor reports at TRACE, in the order they happened.
fn lifecycle_of(events: &[(Level, String, String)], id: ensemble::ActorId) -> Vec<String> {
    let actor = format!("actor={id} ");
    events
        .iter()
        .filter(|(_, target, f)| target == "ensemble::lifecycle" && f.contains(&actor))
        .map(|(_, _, f)| {
            let start = f.find("message=").map(|i| i + 8).unwrap_or(0);
            f[start..]
                .split(" actor=")
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .collect()
}

#[test]
fn an_ending_actor_runs_post_stop_then_releases_its_name_then_tells_its_supervisor() {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let ids2 = ids.clone();
    let events = run_captured(async move {
        let log = Log::default();
        let sup = ensemble_test::TestProbe::<()>::spawn().await;
        for (i, fail) in [false, true].into_iter().enumerate() {
            let name = format!("ol-order-{i}");
            let (w, handle) =
                Actor::spawn_linked(Some(name), Worker::new("o", &log), (), sup.cell())
                    .await
                    .unwrap();
            ids2.lock().unwrap().push(w.id());
            sup.expect_started().await;
            if fail {
                w.cast(Work::Fail("x".into())).unwrap();
                handle.await.unwrap();
                sup.expect_failed().await;
            } else {
                w.stop(None);
                handle.await.unwrap();
                sup.expect_terminated().await;
            }
        }
    });
    for id in ids.lock().unwrap().iter() {
        assert_eq!(
            lifecycle_of(&events, *id),
            [
                "post_stop done",
                "name released",
                "supervisor told",
                "ended"
            ],
            "{events:?}"
        );
    }
}

#[test]
fn an_actor_without_handle_warns_once_that_it_drops_messages() {
    struct Deaf;
    impl ensemble::Actor for Deaf {
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
    }
    let events = run_captured(async {
        let (deaf, _) = Actor::spawn(None, Deaf, ()).await.unwrap();
        for n in 0..3 {
            deaf.cast(n).unwrap();
        }
        deaf.drain_and_wait(None).await.unwrap();
        assert_eq!(deaf.stats().handled, 3);
    });
    let warnings: Vec<_> = events
        .iter()
        .filter(|(lvl, _, f)| {
            *lvl == Level::WARN && f.contains("does not implement `Actor::handle`")
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{events:#?}");
    assert!(warnings[0].2.contains("Deaf"), "{}", warnings[0].2);
}
