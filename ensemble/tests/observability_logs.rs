//! What the runtime reports through `tracing`: failures nobody supervises, dead letters.

mod common;

use std::sync::{Arc, Mutex};

use common::{Log, Work, Worker, block};
use ensemble::Actor;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Records (level, target, message fields) of every event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(Level, String, String)>>>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let meta = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((*meta.level(), meta.target().to_string(), fields.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn run_captured(f: impl std::future::Future<Output = ()>) -> Vec<(Level, String, String)> {
    let capture = Capture::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(capture.clone(), || rt.block_on(f));
    capture.0.lock().unwrap().clone()
}

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
        let (_obs, sup, mut evts) = common::observer().await;
        for (i, fail) in [false, true].into_iter().enumerate() {
            let name = format!("ol-order-{i}");
            let (w, handle) =
                Actor::spawn_linked(Some(name), Worker::new("o", &log), (), sup.clone())
                    .await
                    .unwrap();
            ids2.lock().unwrap().push(w.id());
            let _ = common::next_event(&mut evts).await;
            if fail {
                w.cast(Work::Fail("x".into())).unwrap();
            } else {
                w.stop(None);
            }
            handle.await.unwrap();
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
